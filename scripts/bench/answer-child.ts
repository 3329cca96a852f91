// One answer-stage measurement in a process of its own, so the peak RSS it reports belongs to
// this model pair alone (not to node-llama-cpp or another type loaded earlier by the benchmark).
//   node dist/scripts/bench/answer-child.js '{"text":…,"mmproj":…,"image":…,"threads":2,"runs":3,"maxTokens":32}'
import { answerTimings, type AnswerTimings } from './answer.js';

interface ChildArgs {
  text: string;
  mmproj: string;
  image: string;
  threads: number;
  runs: number;
  maxTokens: number;
}

export interface AnswerChildResult {
  runs: AnswerTimings[];
  peakRssBytes: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ChildArgs;
const runs: AnswerTimings[] = [];
for (let i = 0; i < args.runs; i++) runs.push(await answerTimings(args, args.image, args.threads, args.maxTokens));
const result: AnswerChildResult = { runs, peakRssBytes: process.resourceUsage().maxRSS * 1024 };
process.stdout.write(JSON.stringify(result));
