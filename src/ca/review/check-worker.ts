/** A worker thread of check-ca.ts: decodes certificates and verifies signatures; writes nothing. */
import { parentPort, workerData } from 'node:worker_threads';
import { CaStore } from '../../store/ca-store.js';
import { fromBatch, inspectCertificates, verifySignatures, type CheckTask } from './check-certificates.js';
import { errorReply } from '../worker-pool.js';

const store = CaStore.open((workerData as { dir: string }).dir, { lockTimeoutMs: 0 });

parentPort?.on('message', async ({ id, task }: { id: number; task: CheckTask }) => {
  try {
    const results = task.kind === 'inspect' ? await inspectCertificates(store, task.names, task.issuers) : await verifySignatures(fromBatch(task.batch));
    parentPort?.postMessage({ id, results });
  } catch (error) {
    parentPort?.postMessage(errorReply(id, error));
  }
});
