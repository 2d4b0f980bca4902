// The fakes' own tests: each dialect's ok path parsed by the real clients, then every fault step.
// The cases live in cases/ so this one entry runs them all in one process.
import './cases/openai.ts';
import './cases/anthropic.ts';
import './cases/gemini.ts';
import './cases/azure-openai.ts';
import './cases/faults.ts';
