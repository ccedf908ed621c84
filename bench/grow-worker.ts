/** A worker thread of issueMany: issues its share of the certificates and posts their records back. */
import { parentPort, workerData } from 'node:worker_threads';
import { issueRange } from './grow.js';

const { dir, first, count } = workerData as { dir: string; first: number; count: number };
parentPort?.postMessage(await issueRange(dir, first, count));
