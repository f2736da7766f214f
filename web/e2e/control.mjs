// Talking to the pytest test that runs the stack: one JSON line out ("@@ {...}"), one JSON
// line back on stdin, for what only it can do (stop or start the gateway, answer via Temporal).
import { createInterface } from "node:readline";

const reader = createInterface({ input: process.stdin });
const lines = reader[Symbol.asyncIterator]();

/** Stop reading stdin, which would otherwise keep the script alive. */
export function done() {
  reader.close();
}

export async function ask(request) {
  process.stdout.write(`@@ ${JSON.stringify(request)}\n`);
  const { value, done } = await lines.next();
  if (done) throw new Error(`no answer to ${JSON.stringify(request)}`);
  const answer = JSON.parse(value);
  if (!answer.ok) throw new Error(`${request.request} failed: ${answer.error}`);
  return answer;
}

export function step(message) {
  process.stdout.write(`-- ${message}\n`);
}

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}
