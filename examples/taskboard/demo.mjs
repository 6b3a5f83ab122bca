// The task board in use: three people, one shared board, the rules at work.
// Exits non-zero if anything behaves otherwise than described.
import assert from "node:assert/strict";
import PocketBase from "pocketbase";

const url = process.env.TASKBOARD_URL ?? "http://127.0.0.1:8090";
const run = Date.now().toString(36);

async function signUp(name) {
  const email = `${name}.${run}@taskboard.test`;
  const password = `${name}-password-1`;
  const pb = new PocketBase(url);
  await pb.collection("users").create({ email, password, passwordConfirm: password, name });
  await pb.collection("users").authWithPassword(email, password);
  return pb;
}

const alice = await signUp("alice");
const bob = await signUp("bob");
const carol = await signUp("carol");
const id = (pb) => pb.authStore.record.id;

// Alice creates a board and shares it with Bob.
const board = await alice.collection("boards").create({ name: `Launch ${run}`, owner: id(alice), members: [id(bob)] });
console.log(`alice created board "${board.name}" shared with bob`);

const titles = ["Write the press release", "Fix the signup bug", "Book the venue"];
for (const title of titles) {
  await alice.collection("tasks").create({ board: board.id, title, status: "todo", assignee: id(bob) });
}

// Bob sees the tasks and moves one along; Carol sees nothing.
const bobsView = await bob.collection("tasks").getList(1, 20, {
  filter: bob.filter("board = {:b}", { b: board.id }),
  sort: "title",
  expand: "assignee,board",
});
assert.equal(bobsView.totalItems, 3);
assert.equal(bobsView.items[0].expand.board.name, board.name);
console.log(`bob sees ${bobsView.totalItems} tasks: ${bobsView.items.map((t) => t.title).join(", ")}`);

const moved = await bob.collection("tasks").update(bobsView.items[0].id, { status: "doing" });
assert.equal(moved.status, "doing");
console.log(`bob moved "${moved.title}" to doing`);

const carolsView = await carol.collection("tasks").getList(1, 20, { filter: carol.filter("board = {:b}", { b: board.id }) });
assert.equal(carolsView.totalItems, 0);
console.log("carol, not a member, sees 0 tasks");

// Carol cannot add to the board, and Bob cannot delete from it.
await assert.rejects(carol.collection("tasks").create({ board: board.id, title: "spam", status: "todo" }), (e) => e.status === 400);
console.log("carol cannot add a task to alice's board (400)");
await assert.rejects(bob.collection("tasks").delete(moved.id), (e) => e.status === 404);
console.log("bob, a member but not the owner, cannot delete a task (404)");

// What is still open, newest first, as the board's owner sees it.
const open = await alice.collection("tasks").getFullList({
  filter: alice.filter("board = {:b} && status != 'done'", { b: board.id }),
  sort: "-status,title",
});
console.log(`open tasks: ${open.map((t) => `[${t.status}] ${t.title}`).join("; ")}`);
assert.equal(open.length, 3);

// Deleting the board removes its tasks (cascadeDelete).
await alice.collection("boards").delete(board.id);
const left = await alice.collection("tasks").getList(1, 1, { filter: alice.filter("board = {:b}", { b: board.id }) });
assert.equal(left.totalItems, 0);
console.log("alice deleted the board and its tasks went with it");
console.log("taskboard demo: ok");
