// The example app in examples/taskboard runs against plinth as its README says.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Server, SUPERUSER } from "./lib/server.mjs";

const run = promisify(execFile);
const example = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../examples/taskboard");

describe("examples/taskboard", () => {
  const server = new Server();
  before(() => server.start());
  after(() => server.stop());

  it("migrates and runs the demo twice against the same server", async () => {
    const env = {
      ...process.env,
      TASKBOARD_URL: server.url,
      TASKBOARD_ADMIN: SUPERUSER.email,
      TASKBOARD_ADMIN_PASSWORD: SUPERUSER.password,
    };
    for (let i = 0; i < 2; i++) {
      const { stdout } = await run("bash", [path.join(example, "demo.sh")], { env, timeout: 120000 });
      assert.match(stdout, /migrated: boards, tasks/);
      assert.match(stdout, /carol, not a member, sees 0 tasks/);
      assert.match(stdout, /taskboard demo: ok/);
    }
    const pb = await server.superuser();
    const tasks = await pb.collections.getOne("tasks");
    assert.ok(tasks.listRule.includes("board.members.id ?= @request.auth.id"));
  });
});
