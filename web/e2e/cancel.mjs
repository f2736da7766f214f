// Cancelling from the demo UI against the real stack: the approval flow waits for its prompt,
// the Cancel button ends it, every tab sees `cancelled` and the prompt closes; the server's
// last event is execution:failed of type cancelled. Run by tests/web/test_browser.py.
import { launch } from "./browser.mjs";
import { check, done, step } from "./control.mjs";
import { assertNothingMissing, BASE_URL, executionStatus, shot, signedInPage, startFlow, TIMEOUT } from "./helpers.mjs";

const browser = await launch();
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  const page = await signedInPage(context);

  step("start the approval flow; it waits for its prompt");
  const id = await startFlow(page, "approval", { amount: 250, requester: "ada" });
  await page.getByTestId("prompts").waitFor({ timeout: TIMEOUT });
  const tab2 = await context.newPage();
  await tab2.goto(`${BASE_URL}/#/executions/${id}`);
  await tab2.getByTestId("prompts").waitFor({ timeout: TIMEOUT });

  step("cancel it from the page: both tabs show cancelled, the prompt closes");
  await page.getByTestId("cancel").click();
  await executionStatus(page, "cancelled");
  await executionStatus(tab2, "cancelled");
  await page.getByTestId("prompts").waitFor({ state: "detached", timeout: TIMEOUT });
  await tab2.getByTestId("prompts").waitFor({ state: "detached", timeout: TIMEOUT });
  check((await page.getByTestId("cancel").count()) === 0, "no cancel button once it has ended");
  const error = await page.getByTestId("execution-error").textContent();
  check(error.includes("cancelled"), `the page says it was cancelled: ${error}`);
  await shot(page, "30-execution-cancelled");

  step("the server's last event is execution:failed, cancelled; the page shows every event");
  const events = await assertNothingMissing(page, id);
  const last = events.at(-1);
  check(last.type === "execution:failed" && last.data.error.type === "cancelled", `last event ${JSON.stringify(last)}`);
  step("done");
} finally {
  await browser.close();
  done();
}
