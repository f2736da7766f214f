// The demo UI against the real stack: sign in, start the approval flow, answer its prompt
// (a bad answer first), two tabs, a reload mid-run, and a gateway outage mid-run.
// Run by tests/web/test_browser.py, which passes BASE_URL, TOKEN and ARTIFACTS.
import { launch } from "./browser.mjs";
import { ask, check, done, step } from "./control.mjs";
import {
  assertNothingMissing,
  BASE_URL,
  connection,
  executionStatus,
  nodeStatus,
  shot,
  startFlow,
  TIMEOUT,
  TOKEN,
} from "./helpers.mjs";

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await context.newPage();
  page.on("pageerror", (err) => step(`page error: ${err.message}`));

  step("sign in with a development token");
  await page.goto(`${BASE_URL}/`);
  await page.getByTestId("token").fill(TOKEN);
  await shot(page, "01-sign-in");
  await page.getByTestId("sign-in").click();
  await connection(page, "connected");
  await shot(page, "02-executions");

  step("start the approval flow from the UI; the condition node completes, the prompt opens");
  const first = await startFlow(page, "approval", { amount: 250, requester: "ada" });
  await nodeStatus(page, "check", "completed");
  await page.getByTestId("prompts").waitFor({ timeout: TIMEOUT });
  await shot(page, "03-execution-waiting");

  step("a second tab on the same execution sees the same prompt");
  const tab2 = await context.newPage();
  await tab2.goto(`${BASE_URL}/#/executions/${first}`);
  await tab2.getByTestId("prompts").waitFor({ timeout: TIMEOUT });

  step("a reload mid-execution restores the state");
  await page.reload();
  await nodeStatus(page, "check", "completed");
  await page.getByTestId("prompts").waitFor({ timeout: TIMEOUT });

  step("an answer that fails the prompt's schema is refused, inline");
  await page.getByTestId("prompt-submit").click();
  const error = page.getByTestId("prompt-error");
  await error.waitFor({ timeout: TIMEOUT });
  check((await error.getAttribute("data-code")) === "invalid_input", "the error is invalid_input");
  await shot(page, "04-invalid-answer");

  step("a good answer closes the prompt in both tabs and the execution completes");
  await page.getByTestId("prompt-field-yes").check();
  await page.getByTestId("prompt-submit").click();
  await page.getByTestId("prompts").waitFor({ state: "detached", timeout: TIMEOUT });
  await tab2.getByTestId("prompts").waitFor({ state: "detached", timeout: TIMEOUT });
  await nodeStatus(page, "decide", "completed");
  await executionStatus(page, "completed");
  await executionStatus(tab2, "completed");
  await shot(page, "05-execution-completed");
  await assertNothingMissing(page, first);
  await tab2.close();

  step("the gateway goes away mid-run; what happened meanwhile shows once it is back");
  const second = await startFlow(page, "approval", { amount: 500, requester: "ada" });
  await page.getByTestId("prompts").waitFor({ timeout: TIMEOUT });
  await ask({ request: "stop-gateway" });
  await connection(page, "reconnecting");
  await ask({ request: "answer", executionId: second, value: true });
  await shot(page, "06-gateway-down");
  await ask({ request: "start-gateway" });
  await connection(page, "connected");
  await executionStatus(page, "completed");
  await nodeStatus(page, "decide", "completed");
  check((await page.getByTestId("prompts").count()) === 0, "the answered prompt is closed");
  await assertNothingMissing(page, second);
  await shot(page, "07-recovered");

  step("the executions list shows both");
  await page.goto(`${BASE_URL}/#/executions`);
  for (const id of [first, second]) await page.getByRole("link", { name: id }).waitFor({ timeout: TIMEOUT });
  await shot(page, "08-executions-list");
  step("done");
} finally {
  await browser.close();
  done();
}
