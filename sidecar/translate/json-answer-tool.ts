// JSON mode on Anthropic: the response_format is carried as a forced "answer" tool whose input schema is
// the requested schema (any object for json_object). Tool input is constrained JSON, unlike a system
// instruction, and needs no assistant prefill (which recent Claude models reject). The response side
// turns a call of this tool back into plain message content, so the caller sees ordinary JSON text.

/** Reserved: a caller tool with this name is refused. */
export const JSON_ANSWER_TOOL = 'turnout_json_answer';

export const JSON_ANSWER_DESCRIPTION =
  'Give your final answer by calling this tool. Its input is the JSON response the user asked for.';
