// The task board's schema as a migration: two collections and their rules,
// imported as a superuser. Importing again updates them in place.
import PocketBase from "pocketbase";

const url = process.env.TASKBOARD_URL ?? "http://127.0.0.1:8090";
const pb = new PocketBase(url);
await pb
  .collection("_superusers")
  .authWithPassword(
    process.env.TASKBOARD_ADMIN ?? "admin@taskboard.test",
    process.env.TASKBOARD_ADMIN_PASSWORD ?? "taskboard-admin-1",
  );

// A board is visible to its owner and members; only the owner changes it.
const member = "owner = @request.auth.id || members.id ?= @request.auth.id";
// A task is visible to, and editable by, whoever can see its board.
const onBoard = "board.owner = @request.auth.id || board.members.id ?= @request.auth.id";

await pb.collections.import(
  [
    {
      id: "pbc_taskboards0",
      name: "boards",
      type: "base",
      listRule: member,
      viewRule: member,
      createRule: '@request.auth.id != "" && owner = @request.auth.id',
      updateRule: "owner = @request.auth.id",
      deleteRule: "owner = @request.auth.id",
      fields: [
        { name: "name", type: "text", required: true, max: 100, presentable: true },
        { name: "owner", type: "relation", collectionId: "_pb_users_auth_", maxSelect: 1, required: true },
        { name: "members", type: "relation", collectionId: "_pb_users_auth_", maxSelect: 50 },
        { name: "created", type: "autodate", onCreate: true },
      ],
    },
    {
      id: "pbc_taskstasks0",
      name: "tasks",
      type: "base",
      listRule: onBoard,
      viewRule: onBoard,
      createRule: `@request.auth.id != "" && (${onBoard})`,
      updateRule: `${onBoard} && (@request.body.board:isset = false || @request.body.board = board)`,
      deleteRule: "board.owner = @request.auth.id",
      fields: [
        { name: "board", type: "relation", collectionId: "pbc_taskboards0", maxSelect: 1, required: true, cascadeDelete: true },
        { name: "title", type: "text", required: true, max: 200 },
        { name: "status", type: "select", values: ["todo", "doing", "done"], maxSelect: 1, required: true },
        { name: "assignee", type: "relation", collectionId: "_pb_users_auth_", maxSelect: 1 },
        { name: "due", type: "date" },
        { name: "created", type: "autodate", onCreate: true },
        { name: "updated", type: "autodate", onCreate: true, onUpdate: true },
      ],
      indexes: ["CREATE INDEX idx_tasks_board_status ON tasks (board, status)"],
    },
  ],
  false,
);
console.log(`migrated: boards, tasks (${url})`);
