// Resident set size of a process, read from /proc/<pid>/status (Linux only) as `ps` and the kubelet see it.
import { readFileSync } from 'node:fs';

/**
 * VmRSS (current) and VmHWM (peak since start) in bytes, and VmRSS split into file-backed pages (mostly
 * the node binary's code, shared by every process running it) and anonymous memory (heap, buffers).
 */
export function readRss(pid: number): { rss: number; hwm: number; file: number; anon: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: field('VmRSS'), hwm: field('VmHWM'), file: field('RssFile'), anon: field('RssAnon') };
}

export interface RssSampler {
  /** VmRSS samples so far, bytes. */
  readonly samples: number[];
  stop(): number[];
}

export function sampleRss(pid: number, everyMs = 250): RssSampler {
  const samples: number[] = [readRss(pid).rss];
  const timer = setInterval(() => samples.push(readRss(pid).rss), everyMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      samples.push(readRss(pid).rss);
      return samples;
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
