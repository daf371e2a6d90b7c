// Activities by task queue: model calls run on per-provider queues, the rest on the main queue.
export { callAgent } from './call-agent';
export { gradeAnswer } from './grading';
