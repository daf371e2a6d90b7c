// A team that already runs Temporal: agentbalance on its own worker and task queue.
// Needs a Temporal server (TEMPORAL_ADDRESS, default localhost:7233) and the built package
// (`npm run build` in agentbalance, then `npm install` here).
import { NativeConnection, Worker } from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import { AgentbalancePlugin } from 'agentbalance/worker';
import { design, runMas } from 'agentbalance';

const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
const taskQueue = process.env.TASK_QUEUE ?? 'my-team-queue';

const connection = await NativeConnection.connect({ address });
// The plugin registers agentbalance's workflows and activities on this worker.
const worker = await Worker.create({ connection, namespace, taskQueue, plugins: [new AgentbalancePlugin()] });

await worker.runUntil(async () => {
  const client = new Client({ connection: await Connection.connect({ address }), namespace });
  // The designer builds the MAS for this query and these budgets (simulated pool sim-14 by default).
  const { input, note } = await design({
    query: 'A train travels 120 km in 1.5 hours. What is its average speed in km/h?',
    domain: 'math',
    budgets: { maxCostUsd: 0.002, maxLatencyS: 20 },
    ...(process.env.DESIGNER_TRAINING_STEPS ? { trainingSteps: Number(process.env.DESIGNER_TRAINING_STEPS) } : {}),
  });
  // `taskQueue` puts the run and all of its activities on this team's queue.
  const result = await runMas(client, input, { taskQueue });
  console.log(
    JSON.stringify({
      design: note,
      agents: result.agents.map((a) => `${a.id}:${a.backbone}:${a.status}`),
      costUsd: result.costUsd,
      latencyS: result.latencyS,
      deadlineHit: result.deadlineHit,
      budgetExhausted: result.budgetExhausted,
      simulated: result.simulated,
      answer: result.answer.slice(0, 120),
    }),
  );
  await client.connection.close();
});
await connection.close();
