// A tiny plain SMTP server on a loopback port for the e2e suite: enough of
// RFC 5321 for libcurl (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT); it
// keeps every message and lets a test wait for the next one to an address.
import net from "node:net";

export class SmtpSink {
  constructor() {
    this.messages = [];
    this.waiters = [];
  }

  async start() {
    this.server = net.createServer((socket) => this.#session(socket));
    await new Promise((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.port = this.server.address().port;
    return this;
  }

  stop() {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  // The first message to `to` not consumed yet, waiting up to `ms`.
  next(to, ms = 15000) {
    const i = this.messages.findIndex((m) => !m.taken && m.to.includes(to));
    if (i >= 0) {
      this.messages[i].taken = true;
      return Promise.resolve(this.messages[i]);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no mail to ${to} within ${ms} ms`)), ms);
      this.waiters.push({ to, resolve, timer });
    });
  }

  #deliver(message) {
    const w = this.waiters.findIndex((x) => message.to.includes(x.to));
    if (w >= 0) {
      const [waiter] = this.waiters.splice(w, 1);
      clearTimeout(waiter.timer);
      message.taken = true;
      waiter.resolve(message);
    }
    this.messages.push(message);
  }

  #session(socket) {
    let buf = "";
    let inData = false;
    let current = { from: "", to: [], data: "" };
    const reply = (text) => socket.write(text + "\r\n");
    reply("220 e2e-sink ESMTP");
    socket.on("data", (chunk) => {
      buf += chunk.toString("latin1");
      let nl;
      while ((nl = buf.indexOf("\r\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        if (inData) {
          if (line === ".") {
            inData = false;
            this.#deliver(withHelpers(current));
            current = { from: "", to: [], data: "" };
            reply("250 queued");
          } else {
            current.data += (line.startsWith(".") ? line.slice(1) : line) + "\r\n";
          }
          continue;
        }
        const verb = line.split(" ")[0].toUpperCase();
        const addr = () => (line.match(/<([^>]*)>/) ?? [, ""])[1];
        if (verb === "EHLO") reply("250-e2e-sink\r\n250 8BITMIME");
        else if (verb === "HELO") reply("250 e2e-sink");
        else if (verb === "MAIL") {
          current = { from: addr(), to: [], data: "" };
          reply("250 ok");
        } else if (verb === "RCPT") {
          current.to.push(addr());
          reply("250 ok");
        } else if (verb === "DATA") {
          inData = true;
          reply("354 go ahead");
        } else if (verb === "RSET") {
          current = { from: "", to: [], data: "" };
          reply("250 ok");
        } else if (verb === "NOOP") reply("250 ok");
        else if (verb === "QUIT") {
          reply("221 bye");
          socket.end();
        } else reply("502 unknown command");
      }
    });
    socket.on("error", () => {});
  }
}

// Adds subject() and body() (quoted-printable decoded, UTF-8) to a message.
function withHelpers(m) {
  const head = m.data.slice(0, m.data.indexOf("\r\n\r\n"));
  const raw = m.data.slice(m.data.indexOf("\r\n\r\n") + 4);
  const bytes = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "=" && raw[i + 1] === "\r" && raw[i + 2] === "\n") i += 2;
    else if (raw[i] === "=" && /^[0-9A-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
      bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(raw.charCodeAt(i));
  }
  const body = Buffer.from(bytes).toString("utf8");
  const subject = (head.match(/^Subject: (.*)$/m) ?? [, ""])[1];
  return { ...m, subject, body };
}

// The JWT after `marker` in a mail body.
export function tokenAfter(message, marker) {
  const i = message.body.indexOf(marker);
  if (i < 0) return "";
  return message.body.slice(i + marker.length).match(/^[A-Za-z0-9_.-]+/)[0];
}
