/**
 * Headless Chromium for tests that must look at a page the way a user does: serve a folder over
 * http on 127.0.0.1, open a URL in Debian's `chromium` (installed by scripts/setup-chromium.sh),
 * and read back the rendered DOM, the console errors and a PNG screenshot.
 *
 * It speaks the Chrome DevTools protocol over `--remote-debugging-pipe` (NUL-terminated JSON on
 * file descriptors 3 and 4), so it needs no WebSocket client and no npm package. WebGPU runs on
 * SwiftShader, Chromium's own CPU Vulkan, through the flags in CHROMIUM_FLAGS.
 *
 * Typical use:
 *   const site = await serveFolder(dir);
 *   const browser = await launchChromium();
 *   const page = await browser.open(`${site.url}/index.html`, { waitFor: "window.ready === true" });
 *   expect(await page.text("#max")).toBe("448");
 *   expect(page.consoleErrors).toEqual([]);
 *   await browser.close(); await site.close();
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { extname, join, normalize, sep } from "node:path";
import { inflateSync } from "node:zlib";

/** The browser binary: NUMFORGE_CHROMIUM when set, else Debian's `chromium` on PATH. */
export const CHROMIUM = process.env.NUMFORGE_CHROMIUM ?? "chromium";

/**
 * Why each flag: headless without a display; no sandbox (CI containers run as root, where
 * Chromium's sandbox refuses to start); WebGPU on SwiftShader (no GPU on CI machines, and
 * Chromium's WebGPU on Linux is behind --enable-unsafe-webgpu); no first-run noise.
 */
export const CHROMIUM_FLAGS = [
  "--headless=new",
  "--no-sandbox",
  "--disable-dev-shm-usage",
  "--enable-unsafe-webgpu",
  "--enable-features=Vulkan",
  "--use-angle=swiftshader",
  "--use-webgpu-adapter=swiftshader",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-extensions",
  "--hide-scrollbars",
  "--mute-audio",
] as const;

const MIME: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json; charset=utf-8",
  ".wasm": "application/wasm",
  ".wgsl": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".txt": "text/plain; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

/** A folder served read-only over http on 127.0.0.1 (a free port). */
export interface ServedFolder {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `folder` over http on 127.0.0.1 with the right MIME types (application/wasm included). */
export async function serveFolder(folder: string): Promise<ServedFolder> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname);
    const file = normalize(join(folder, path.endsWith("/") ? `${path}index.html` : path));
    // The browser asks for /favicon.ico on its own; a 404 there would be a console error no page made.
    if (path === "/favicon.ico" && !isFile(file)) {
      res.writeHead(204).end();
      return;
    }
    if (!file.startsWith(normalize(folder + sep)) || !isFile(file)) {
      res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${path}`);
      return;
    }
    res.writeHead(200, { "content-type": MIME[extname(file)] ?? "application/octet-stream", "cache-control": "no-store" });
    res.end(readFileSync(file));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** What `open` waits for and how the viewport looks. */
export interface OpenOptions {
  /** A JavaScript expression polled in the page until truthy (promises awaited). Default: the load event only. */
  readonly waitFor?: string;
  /** Milliseconds to wait for load and `waitFor` together (default 60 s: SwiftShader pages are slow on 2 cores). */
  readonly timeoutMs?: number;
  readonly width?: number;
  readonly height?: number;
}

/** One open tab. Console errors and uncaught exceptions collect in `consoleErrors` as they happen. */
export interface Page {
  /** `console.error` text, uncaught exceptions, and the browser's own error log entries (failed loads, CSP, …). */
  readonly consoleErrors: string[];
  /** The value of a JavaScript expression in the page (promises awaited; must be JSON-serialisable). */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /** Polls `expression` until truthy, or throws after `timeoutMs` saying which expression. */
  waitFor(expression: string, timeoutMs?: number): Promise<void>;
  /** The rendered DOM as HTML (document.documentElement.outerHTML). */
  dom(): Promise<string>;
  /** The textContent of the first element matching `selector`, or null when none does. */
  text(selector: string): Promise<string | null>;
  /** A PNG of the viewport, or of the whole page with `fullPage`. */
  screenshot(options?: { fullPage?: boolean }): Promise<Buffer>;
  close(): Promise<void>;
}

/** A running headless Chromium. */
export interface Browser {
  open(url: string, options?: OpenOptions): Promise<Page>;
  close(): Promise<void>;
}

interface Pending {
  resolve(value: Record<string, unknown>): void;
  reject(error: Error): void;
  method: string;
}

type EventListener = (params: Record<string, unknown>, sessionId: string | undefined) => void;

/** The DevTools protocol over Chromium's pipe: one request/response map and event listeners. */
class Connection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners = new Map<string, Set<EventListener>>();
  private buffered = "";
  private closedWith: Error | undefined;

  constructor(
    private readonly input: NodeJS.WritableStream,
    output: NodeJS.ReadableStream,
  ) {
    output.setEncoding("utf8");
    output.on("data", (chunk: string) => this.receive(chunk));
    output.on("close", () => this.fail(new Error("chromium closed the DevTools pipe")));
  }

  send(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<Record<string, unknown>> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    const id = this.nextId++;
    const message = JSON.stringify(sessionId === undefined ? { id, method, params } : { id, method, params, sessionId });
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, method });
      this.input.write(`${message}\0`);
    });
  }

  on(method: string, listener: EventListener): () => void {
    const set = this.listeners.get(method) ?? new Set();
    set.add(listener);
    this.listeners.set(method, set);
    return () => set.delete(listener);
  }

  fail(error: Error): void {
    this.closedWith ??= error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  private receive(chunk: string): void {
    this.buffered += chunk;
    let end = this.buffered.indexOf("\0");
    while (end >= 0) {
      const text = this.buffered.slice(0, end);
      this.buffered = this.buffered.slice(end + 1);
      this.dispatch(JSON.parse(text) as Record<string, unknown>);
      end = this.buffered.indexOf("\0");
    }
  }

  private dispatch(message: Record<string, unknown>): void {
    if (typeof message.id === "number") {
      const p = this.pending.get(message.id);
      if (p === undefined) return;
      this.pending.delete(message.id);
      const error = message.error as { message?: string } | undefined;
      if (error !== undefined) p.reject(new Error(`${p.method}: ${error.message ?? JSON.stringify(error)}`));
      else p.resolve((message.result ?? {}) as Record<string, unknown>);
      return;
    }
    const method = message.method as string;
    for (const listener of this.listeners.get(method) ?? [])
      listener((message.params ?? {}) as Record<string, unknown>, message.sessionId as string | undefined);
  }
}

/** Starts headless Chromium. Close it (and its pages) when done; it removes its temporary profile. */
export async function launchChromium(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), "numforge-chromium-"));
  const child: ChildProcess = spawn(
    CHROMIUM,
    [...CHROMIUM_FLAGS, "--remote-debugging-pipe", `--user-data-dir=${profile}`, "about:blank"],
    { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const connection = new Connection(child.stdio[3] as NodeJS.WritableStream, child.stdio[4] as NodeJS.ReadableStream);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.once("error", (error) => connection.fail(new Error(`cannot start ${CHROMIUM} (${error.message}); run scripts/setup-chromium.sh`)));
  child.once("exit", (code) => connection.fail(new Error(`chromium exited (code ${code}): ${stderr.trim().split("\n").slice(-5).join(" | ")}`)));
  await connection.send("Browser.getVersion");

  return {
    open: (url, options = {}) => openPage(connection, url, options),
    close: async () => {
      await connection.send("Browser.close").catch(() => undefined);
      const killer = setTimeout(() => child.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(killer);
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function openPage(connection: Connection, url: string, options: OpenOptions): Promise<Page> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const { targetId } = (await connection.send("Target.createTarget", { url: "about:blank" })) as { targetId: string };
  const { sessionId } = (await connection.send("Target.attachToTarget", { targetId, flatten: true })) as { sessionId: string };
  const send = (method: string, params: Record<string, unknown> = {}) => connection.send(method, params, sessionId);
  const mine = (listener: EventListener): EventListener => (params, from) => {
    if (from === sessionId) listener(params, from);
  };

  const consoleErrors: string[] = [];
  const unsubscribe = [
    connection.on(
      "Runtime.consoleAPICalled",
      mine((p) => {
        if (p.type !== "error" && p.type !== "assert") return;
        const args = p.args as { value?: unknown; description?: string }[];
        consoleErrors.push(args.map((a) => (a.value !== undefined ? String(a.value) : (a.description ?? ""))).join(" "));
      }),
    ),
    connection.on(
      "Runtime.exceptionThrown",
      mine((p) => {
        const d = p.exceptionDetails as { text: string; exception?: { description?: string } };
        consoleErrors.push(`${d.text} ${d.exception?.description ?? ""}`.trim());
      }),
    ),
    connection.on(
      "Log.entryAdded",
      mine((p) => {
        const e = p.entry as { level: string; text: string; url?: string };
        if (e.level === "error") consoleErrors.push(`${e.text}${e.url ? ` (${e.url})` : ""}`);
      }),
    ),
  ];

  let loaded = false;
  unsubscribe.push(connection.on("Page.loadEventFired", mine(() => void (loaded = true))));
  await Promise.all([send("Runtime.enable"), send("Log.enable"), send("Page.enable")]);
  await send("Emulation.setDeviceMetricsOverride", {
    width: options.width ?? 1400,
    height: options.height ?? 1000,
    deviceScaleFactor: 1,
    mobile: false,
  });

  const evaluate = async <T>(expression: string): Promise<T> => {
    const r = (await send("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true })) as {
      result: { value?: T };
      exceptionDetails?: { text: string; exception?: { description?: string } };
    };
    if (r.exceptionDetails !== undefined)
      throw new Error(`in the page, ${expression}: ${r.exceptionDetails.exception?.description ?? r.exceptionDetails.text}`);
    return r.result.value as T;
  };
  const waitFor = async (expression: string, ms = timeoutMs): Promise<void> => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (await evaluate<boolean>(`Boolean(${expression})`).catch(() => false)) return;
      if (Date.now() > deadline)
        throw new Error(`the page never made \`${expression}\` true within ${ms} ms; console errors: ${JSON.stringify(consoleErrors)}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  const started = Date.now();
  const navigation = (await send("Page.navigate", { url })) as { errorText?: string };
  if (navigation.errorText) throw new Error(`cannot open ${url}: ${navigation.errorText}`);
  while (!loaded) {
    if (Date.now() - started > timeoutMs) throw new Error(`${url} did not finish loading within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  if (options.waitFor !== undefined) await waitFor(options.waitFor, timeoutMs - (Date.now() - started));

  return {
    consoleErrors,
    evaluate,
    waitFor,
    dom: () => evaluate<string>("document.documentElement.outerHTML"),
    text: (selector) => evaluate<string | null>(`document.querySelector(${JSON.stringify(selector)})?.textContent ?? null`),
    screenshot: async ({ fullPage = false } = {}) => {
      const { data } = (await send("Page.captureScreenshot", { format: "png", captureBeyondViewport: fullPage })) as { data: string };
      return Buffer.from(data, "base64");
    },
    close: async () => {
      for (const off of unsubscribe) off();
      await connection.send("Target.closeTarget", { targetId }).catch(() => undefined);
    },
  };
}

/** A decoded PNG: 8-bit RGBA, row-major, 4 bytes a pixel. */
export interface Image {
  readonly width: number;
  readonly height: number;
  readonly rgba: Uint8Array;
}

/**
 * Decodes the PNGs Chromium writes (8-bit RGB or RGBA, not interlaced) so tests can look at
 * pixels without an image library.
 */
export function decodePng(png: Buffer): Image {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error("not a PNG");
  let offset = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (offset < png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.toString("latin1", offset + 4, offset + 8);
    const data = png.subarray(offset + 8, offset + 8 + length);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      const [depth, colour, , , interlace] = [data[8], data[9], data[10], data[11], data[12]];
      channels = colour === 6 ? 4 : colour === 2 ? 3 : 0;
      if (depth !== 8 || channels === 0 || interlace !== 0) throw new Error(`unsupported PNG (depth ${depth}, colour ${colour}, interlace ${interlace})`);
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    offset += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const pixels = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let x = 0; x < stride; x++) {
      const a = x >= channels ? pixels[y * stride + x - channels] : 0;
      const b = y > 0 ? pixels[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? pixels[(y - 1) * stride + x - channels] : 0;
      const predictor =
        filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : paeth(a, b, c);
      pixels[y * stride + x] = (line[x] + predictor) & 0xff;
    }
  }
  if (channels === 4) return { width, height, rgba: pixels };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    rgba.set(pixels.subarray(i * 3, i * 3 + 3), i * 4);
    rgba[i * 4 + 3] = 255;
  }
  return { width, height, rgba };
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** A rectangle of an image in CSS pixels (device scale 1), e.g. from getBoundingClientRect(). */
export interface Region {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/**
 * How many distinct colours a region holds and what fraction of its pixels differ from its most
 * common colour (the background): a plot with content has both well above a blank panel's 1 and 0.
 */
export function regionContent(image: Image, region: Region): { colours: number; nonBackground: number } {
  const counts = new Map<number, number>();
  const x0 = Math.max(0, Math.floor(region.x));
  const y0 = Math.max(0, Math.floor(region.y));
  const x1 = Math.min(image.width, Math.ceil(region.x + region.width));
  const y1 = Math.min(image.height, Math.ceil(region.y + region.height));
  for (let y = y0; y < y1; y++)
    for (let x = x0; x < x1; x++) {
      const i = (y * image.width + x) * 4;
      const key = (image.rgba[i] << 16) | (image.rgba[i + 1] << 8) | image.rgba[i + 2];
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  const total = Math.max(1, (x1 - x0) * (y1 - y0));
  const background = Math.max(0, ...counts.values());
  return { colours: counts.size, nonBackground: (total - background) / total };
}
