// The Node peer for bench/run.sh: the records and auth endpoints of W1-W4 written the way a
// team would write them with Fastify 5 + better-sqlite3 12, speaking PocketBase's JSON shapes.
//
//   node server.js --port 8091 --db /path/data.db
//
// Same durability as Plinth's default: WAL + synchronous=FULL, one transaction per request.
// Same `posts` table as Plinth creates (bench/run.sh may create it first from Plinth's own
// `.schema posts`; otherwise the equivalent DDL below is used).
'use strict';

const crypto = require('node:crypto');
const { parseArgs } = require('node:util');
const Database = require('better-sqlite3');
const Fastify = require('fastify');

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: '8091' },
    host: { type: 'string', default: '127.0.0.1' },
    db: { type: 'string', default: 'node_data.db' },
  },
});

const POSTS_ID = 'pbc_posts00000001';
const USERS_ID = 'pbc_users00000001';
const TOKEN_SECRET = crypto.randomBytes(32).toString('hex');
const TOKEN_DURATION = 604800;

const db = new Database(args.db);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = FULL');
db.pragma('busy_timeout = 10000');
db.pragma('foreign_keys = ON');
db.exec(`
CREATE TABLE IF NOT EXISTS posts (
  id TEXT PRIMARY KEY DEFAULT ('r'||lower(hex(randomblob(7)))) NOT NULL,
  title TEXT DEFAULT '' NOT NULL,
  views NUMERIC DEFAULT 0 NOT NULL,
  created TEXT DEFAULT '' NOT NULL,
  updated TEXT DEFAULT '' NOT NULL);
CREATE INDEX IF NOT EXISTS idx_posts_views ON posts (views);
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY NOT NULL,
  email TEXT DEFAULT '' NOT NULL,
  emailVisibility BOOLEAN DEFAULT FALSE NOT NULL,
  verified BOOLEAN DEFAULT FALSE NOT NULL,
  name TEXT DEFAULT '' NOT NULL,
  avatar TEXT DEFAULT '' NOT NULL,
  password TEXT NOT NULL,
  tokenKey TEXT NOT NULL,
  created TEXT DEFAULT '' NOT NULL,
  updated TEXT DEFAULT '' NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS idx_users_email ON users (email) WHERE email != '';
`);

const stmt = {
  postById: db.prepare('SELECT id, title, views, created, updated FROM posts WHERE id = ?'),
  insertPost: db.prepare(
    'INSERT INTO posts (id, title, views, created, updated) VALUES (?, ?, ?, ?, ?)'),
  userById: db.prepare('SELECT * FROM users WHERE id = ?'),
  userByEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
  insertUser: db.prepare(`INSERT INTO users
    (id, email, emailVisibility, verified, name, avatar, password, tokenKey, created, updated)
    VALUES (?, ?, 0, 0, ?, '', ?, ?, ?, ?)`),
};

// --- helpers ---------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message, data = {}) {
    super(message);
    this.status = status;
    this.data = data;
  }
}

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
function newId() {
  const bytes = crypto.randomBytes(15);
  let id = '';
  for (const b of bytes) id += ID_ALPHABET[b % 36];
  return id;
}

// PocketBase's datetime text: "2024-05-01 12:34:56.789Z".
function nowText() {
  return new Date().toISOString().replace('T', ' ');
}

function postJson(row) {
  return { collectionId: POSTS_ID, collectionName: 'posts', ...row };
}

function userJson(row) {
  return {
    collectionId: USERS_ID,
    collectionName: 'users',
    id: row.id,
    email: row.email,
    emailVisibility: !!row.emailVisibility,
    verified: !!row.verified,
    name: row.name,
    avatar: row.avatar,
    created: row.created,
    updated: row.updated,
  };
}

function fieldError(code, message) {
  return { code, message };
}

// Passwords: scrypt from node's crypto, "scrypt$salt$hash".
function hashPassword(password) {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(password, salt, 32);
  return `scrypt$${salt.toString('base64')}$${hash.toString('base64')}`;
}
function verifyPassword(password, stored) {
  const [kind, salt, hash] = String(stored).split('$');
  if (kind !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64');
  const got = crypto.scryptSync(password, Buffer.from(salt, 'base64'), want.length);
  return crypto.timingSafeEqual(want, got);
}

// HS256 JWT keyed as PocketBase: the record's tokenKey + the collection's token secret.
const b64url = (buf) => Buffer.from(buf).toString('base64url');
const JWT_HEADER = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
function signToken(user) {
  const claims = {
    collectionId: USERS_ID,
    exp: Math.floor(Date.now() / 1000) + TOKEN_DURATION,
    id: user.id,
    refreshable: true,
    type: 'auth',
  };
  const body = `${JWT_HEADER}.${b64url(JSON.stringify(claims))}`;
  const sig = crypto.createHmac('sha256', user.tokenKey + TOKEN_SECRET).update(body).digest();
  return `${body}.${b64url(sig)}`;
}
// Returns the user row the token belongs to, or null.
function verifyToken(header) {
  let token = String(header || '').trim();
  if (token.toLowerCase().startsWith('bearer ')) token = token.slice(7).trim();
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  let head, claims;
  try {
    head = JSON.parse(Buffer.from(parts[0], 'base64url').toString());
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString());
  } catch {
    return null;
  }
  if (!head || head.alg !== 'HS256' || !claims || claims.type !== 'auth') return null;
  if (claims.collectionId !== USERS_ID || typeof claims.id !== 'string') return null;
  if (typeof claims.exp !== 'number' || claims.exp <= Date.now() / 1000) return null;
  const user = stmt.userById.get(claims.id);
  if (!user) return null;
  const want = crypto.createHmac('sha256', user.tokenKey + TOKEN_SECRET)
    .update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2], 'base64url');
  if (got.length !== want.length || !crypto.timingSafeEqual(got, want)) return null;
  return user;
}

// The list filter the benchmark uses: `field op number` on an allow-listed field.
const FILTER_RE = /^\s*(views)\s*(>=|<=|!=|=|>|<)\s*(-?\d+(?:\.\d+)?)\s*$/;
const SORT_RE = /^(-?)(views|created|updated|title|id)$/;
const listQueries = new Map();
function listQuery(where, order) {
  const key = `${where}|${order}`;
  let s = listQueries.get(key);
  if (!s) {
    s = {
      count: db.prepare(`SELECT count(*) AS n FROM posts ${where}`),
      page: db.prepare(
        `SELECT id, title, views, created, updated FROM posts ${where} ${order} LIMIT ? OFFSET ?`),
    };
    listQueries.set(key, s);
  }
  return s;
}

// --- routes ------------------------------------------------------------------------------------

const app = Fastify({ logger: false, bodyLimit: 1 << 20 });

// An empty JSON body counts as {} (the SDK's auth-refresh posts none).
app.removeContentTypeParser('application/json');
app.addContentTypeParser('application/json', { parseAs: 'string' }, (req, body, done) => {
  if (body === '') {
    done(null, {});
    return;
  }
  try {
    done(null, JSON.parse(body));
  } catch {
    done(new ApiError(400, 'Failed to load the submitted data due to invalid formatting.'));
  }
});

app.setErrorHandler((err, req, reply) => {
  if (err instanceof ApiError) {
    reply.code(err.status).send({ status: err.status, message: err.message, data: err.data });
    return;
  }
  const status = err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
  reply.code(status).send({
    status,
    message: 'Something went wrong while processing your request.',
    data: {},
  });
});
app.setNotFoundHandler((req, reply) => {
  reply.code(404).send({ status: 404, message: "The requested resource wasn't found.", data: {} });
});

app.get('/api/health', async () => ({ code: 200, message: 'API is healthy.', data: {} }));

app.get('/api/collections/posts/records/:id', async (req) => {
  const row = stmt.postById.get(req.params.id);
  if (!row) throw new ApiError(404, "The requested resource wasn't found.");
  return postJson(row);
});

app.get('/api/collections/posts/records', async (req) => {
  const q = req.query;
  const page = q.page === undefined ? 1 : Number(q.page);
  const perPage = q.perPage === undefined ? 30 : Number(q.perPage);
  if (!Number.isInteger(page) || page < 1 || !Number.isInteger(perPage) || perPage < 1) {
    throw new ApiError(400, 'Invalid page or perPage.');
  }
  const limit = Math.min(perPage, 1000);
  let where = '';
  const params = [];
  if (q.filter) {
    const m = FILTER_RE.exec(q.filter);
    if (!m) throw new ApiError(400, 'Invalid filter parameters.');
    where = `WHERE ${m[1]} ${m[2]} ?`;
    params.push(Number(m[3]));
  }
  let order = '';
  if (q.sort) {
    const m = SORT_RE.exec(q.sort);
    if (!m) throw new ApiError(400, 'Invalid sort parameters.');
    order = `ORDER BY ${m[2]} ${m[1] ? 'DESC' : 'ASC'}`;
  }
  const s = listQuery(where, order);
  const totalItems = q.skipTotal ? -1 : s.count.get(...params).n;
  const items = s.page.all(...params, limit, (page - 1) * limit).map(postJson);
  return {
    items,
    page,
    perPage: limit,
    totalItems,
    totalPages: totalItems < 0 ? -1 : Math.ceil(totalItems / limit),
  };
});

app.post('/api/collections/posts/records', async (req) => {
  const body = req.body;
  if (!body || typeof body !== 'object' || Array.isArray(body)) {
    throw new ApiError(400, 'Failed to load the submitted data due to invalid formatting.');
  }
  const errors = {};
  const title = body.title === undefined ? '' : body.title;
  const views = body.views === undefined ? 0 : body.views;
  if (typeof title !== 'string') errors.title = fieldError('validation_invalid_value', 'Must be a string.');
  if (typeof views !== 'number' || !Number.isFinite(views)) {
    errors.views = fieldError('validation_invalid_number', 'Must be a valid number.');
  }
  if (Object.keys(errors).length) {
    throw new ApiError(400, 'Failed to create record.', errors);
  }
  const row = { id: newId(), title, views, created: nowText(), updated: '' };
  row.updated = row.created;
  // One statement in autocommit mode: one transaction, fsynced before the answer.
  stmt.insertPost.run(row.id, row.title, row.views, row.created, row.updated);
  return postJson(row);
});

app.post('/api/collections/users/records', async (req) => {
  const body = req.body || {};
  const errors = {};
  if (typeof body.email !== 'string' || !/^[^@\s]+@[^@\s]+$/.test(body.email)) {
    errors.email = fieldError('validation_invalid_email', 'Must be a valid email address.');
  }
  if (typeof body.password !== 'string' || body.password.length < 8) {
    errors.password = fieldError('validation_min_text_constraint', 'Must be at least 8 character(s).');
  } else if (body.passwordConfirm !== body.password) {
    errors.passwordConfirm = fieldError('validation_values_mismatch', "Values don't match.");
  }
  if (Object.keys(errors).length) throw new ApiError(400, 'Failed to create record.', errors);
  const now = nowText();
  const id = newId();
  try {
    stmt.insertUser.run(id, body.email, typeof body.name === 'string' ? body.name : '',
      hashPassword(body.password), crypto.randomBytes(25).toString('base64url'), now, now);
  } catch (e) {
    if (String(e.code).startsWith('SQLITE_CONSTRAINT')) {
      throw new ApiError(400, 'Failed to create record.',
        { email: fieldError('validation_not_unique', 'Value must be unique.') });
    }
    throw e;
  }
  const row = stmt.userById.get(id);
  return { ...userJson(row), emailVisibility: false };
});

app.post('/api/collections/users/auth-with-password', async (req) => {
  const body = req.body || {};
  if (typeof body.identity !== 'string' || !body.identity ||
      typeof body.password !== 'string' || !body.password) {
    throw new ApiError(400, 'An error occurred while validating the submitted data.');
  }
  const user = stmt.userByEmail.get(body.identity);
  if (!user || !verifyPassword(body.password, user.password)) {
    throw new ApiError(400, 'Failed to authenticate.');
  }
  return { record: userJson(user), token: signToken(user) };
});

app.post('/api/collections/users/auth-refresh', async (req) => {
  const user = verifyToken(req.headers.authorization);
  if (!user) throw new ApiError(401, 'The request requires valid record authorization token.');
  return { record: userJson(user), token: signToken(user) };
});

app.listen({ port: Number(args.port), host: args.host }).catch((e) => {
  console.error(e);
  process.exit(1);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    app.close().then(() => {
      db.close();
      process.exit(0);
    });
  });
}
