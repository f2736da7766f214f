// Behind a proxy that refuses WebSocket upgrades: the page works over the SSE fallback
// (events live, in order, the prompt answered over HTTP), then the proxy lifts the block
// mid-run and the page returns to the WebSocket with no missing or doubled event.
// Run by tests/web/test_fallback.py, which runs the proxy (BASE_URL is the proxy's).
import { launch } from "./browser.mjs";
import { ask, check, done, step } from "./control.mjs";
import {
  assertNothingMissing,
  BASE_URL,
  connection,
  executionStatus,
  shot,
  signedInPage,
  startFlow,
  TIMEOUT,
} from "./helpers.mjs";

async function answerYes(page) {
  await page.getByTestId("prompt-field-yes").check();
  await page.getByTestId("prompt-submit").click();
  await page.getByTestId("prompts").waitFor({ state: "detached", timeout: TIMEOUT });
}

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await signedInPage(context);

  step("WebSocket upgrades are refused: the page connects over the SSE fallback");
  await page.goto(`${BASE_URL}/#/executions`);
  await connection(page, "connected");
  let proxy = await ask({ request: "proxy" });
  check(proxy.refused >= 2 && proxy.websockets === 0 && proxy.streams === 1, `proxy: ${JSON.stringify(proxy)}`);

  step("the agent approval flow is watched live to completion; its prompt answered over HTTP");
  const first = await startFlow(page, "agent_approval", {});
  await page.getByTestId("prompts").waitFor({ timeout: 90_000 });
  await shot(page, "fallback-1-prompt");
  await answerYes(page);
  await executionStatus(page, "completed");
  await shot(page, "fallback-2-completed");
  await assertNothingMissing(page, first);
  proxy = await ask({ request: "proxy" });
  check(proxy.websockets === 0, `no WebSocket got through: ${JSON.stringify(proxy)}`);

  step("a second run starts on the fallback; the proxy lifts the block while it waits");
  const second = await startFlow(page, "agent_approval", {});
  await page.getByTestId("prompts").waitFor({ timeout: 90_000 });
  await ask({ request: "lift" }); // answers once a WebSocket is open and no stream is
  await connection(page, "connected");

  step("answered over the WebSocket; nothing missing or doubled across the switch");
  await answerYes(page);
  await executionStatus(page, "completed");
  await shot(page, "fallback-3-back-on-websocket");
  await assertNothingMissing(page, second);
  proxy = await ask({ request: "proxy" });
  check(proxy.websockets === 1 && proxy.streams === 0, `back on the WebSocket: ${JSON.stringify(proxy)}`);

  step("a second tab on the same execution: each says it is also watched (presence)");
  const tab2 = await context.newPage();
  await tab2.goto(`${BASE_URL}/#/executions/${second}`);
  for (const p of [page, tab2]) {
    await p.getByTestId("also-watching").filter({ hasText: "also watching: you, elsewhere" }).waitFor({ timeout: TIMEOUT });
  }
  await shot(page, "fallback-4-also-watching");
  await tab2.close();
  await page.getByTestId("also-watching").waitFor({ state: "detached", timeout: TIMEOUT });
  await page.goto(`${BASE_URL}/#/executions/${first}`);
  await executionStatus(page, "completed");
  await assertNothingMissing(page, first);
  step("done");
} finally {
  await browser.close();
  done();
}
