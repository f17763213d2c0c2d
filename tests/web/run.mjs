// The page end to end in headless Chromium: build/web (the core on
// WebAssembly, the WebUSB backend, the page) against the emulator compiled
// to WebAssembly behind tests/web/fake_usb.js. Every scenario checks the
// emulated flash byte for byte afterwards. Ends with "N passed, N failed".
//
// usage: node run.mjs BUILD PUPPETEER_DIR [--bench BKSPI] [--screenshots DIR]
import { createServer } from "node:http";
import { createRequire } from "node:module";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const [build, npmDir, ...rest] = process.argv.slice(2);
const opt = (name) => { const i = rest.indexOf(name); return i >= 0 ? rest[i + 1] : null; };
const benchBkspi = opt("--bench");
const shotDir = opt("--screenshots");
const only = opt("--only");
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const dumps = path.resolve(root, "../shared/dumps");
const puppeteer = createRequire(path.join(npmDir, "package.json"))("puppeteer-core");

// ---- the files the browser loads ---------------------------------------
const web = path.join(build, "web");
const standIn = fs.readFileSync(path.join(build, "web-test/emu.js"), "utf8") + "\n" +
  fs.readFileSync(path.join(root, "tests/web/fake_usb.js"), "utf8");
const server = createServer((req, res) => {
  const url = decodeURIComponent(req.url.split("?")[0]);
  const file = url.startsWith("/dumps/") ? path.join(dumps, path.basename(url))
    : path.join(web, url === "/" ? "index.html" : path.basename(url));
  fs.readFile(file, (err, data) => {
    if (err) { res.writeHead(404); res.end(); return; }
    const type = file.endsWith(".html") ? "text/html" : file.endsWith(".js") ? "text/javascript"
      : file.endsWith(".wasm") ? "application/wasm" : "application/octet-stream";
    res.writeHead(200, { "content-type": type });
    res.end(data);
  });
});
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}`;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), "bkspi-web-chromium-"));
const browser = await puppeteer.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", `--user-data-dir=${profile}`],
});

// ---- helpers -------------------------------------------------------------
const dump = (name) => fs.readFileSync(path.join(dumps, name));
const A = "bk7231n-moes-wk-us2-tc-outlet.bin";
const B = "bk7231n-kanlux-33643-gu10-bulb.bin";
const RF = 0x1d0000; /* the RF calibration sector of both BK7231N dumps (info says so) */

async function board(config = "", flashName = A, { present = true, width = 1000, noUsb = false, ua = null } = {}) {
  const page = await browser.newPage();
  await page.setViewport({ width, height: 900 });
  if (ua)
    await page.setUserAgent(ua);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bkspi-web-dl-"));
  const cdp = await page.createCDPSession();
  await cdp.send("Browser.setDownloadBehavior", { behavior: "allow", downloadPath: dir });
  if (noUsb)
    await page.evaluateOnNewDocument(() => { delete Navigator.prototype.usb; });
  else
    await page.evaluateOnNewDocument(standIn);
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await page.goto(base + "/", { waitUntil: "load" });
  await page.waitForFunction(() => document.body.dataset.ready === "1", { timeout: 20000 });
  if (!noUsb)
    await page.evaluate(async (cfg, name, present) => {
      const flash = name ? new Uint8Array(await (await fetch("/dumps/" + name)).arrayBuffer()) : null;
      await bkTest.plug(cfg, flash, present);
    }, config, flashName, present);
  return { page, dir, errors };
}

const button = (page, name) => page.$(`::-p-aria([name="${name}"][role="button"])`);

async function click(b, name) {
  await (await button(b.page, name)).click();
  if (["Cancel", "Write anyway"].includes(name))
    return;
  await b.page.waitForFunction(() => /: (done|failed)$/.test(document.getElementById("progress-text").textContent) ||
                               document.getElementById("refusal").open, { timeout: 120000 });
}

const text = (b, id) => b.page.$eval("#" + id, (e) => e.textContent);
const log = (b) => text(b, "log");
const error = (b) => text(b, "error");

async function flash(b) {
  const s = await b.page.evaluate(() => {
    const f = bkTest.flash();
    let s = "";
    for (let i = 0; i < f.length; i += 0x8000)
      s += String.fromCharCode.apply(null, f.subarray(i, i + 0x8000));
    return btoa(s);
  });
  return Buffer.from(s, "base64");
}

async function setField(b, label, value) {
  const el = await b.page.$(`::-p-aria([name="${label}"][role="textbox"])`);
  await el.click({ clickCount: 3 });
  await el.press("Backspace");
  if (value)
    await el.type(value);
}

/* Drops bytes on the page as a file, as a person dragging it would. */
async function drop(b, name, bytes) {
  await b.page.evaluate(async (name, b64) => {
    const bin = atob(b64), u = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) u[i] = bin.charCodeAt(i);
    const dt = new DataTransfer();
    dt.items.add(new File([u], name));
    for (const type of ["dragenter", "dragover", "drop"])
      document.dispatchEvent(new DragEvent(type, { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, name, Buffer.from(bytes).toString("base64"));
  await b.page.waitForFunction(() => document.getElementById("file-info").textContent.length > 0);
}

async function downloads(b, n) {
  for (let i = 0; i < 200; i++) {
    const files = fs.readdirSync(b.dir).filter((f) => !f.endsWith(".crdownload")).sort();
    if (files.length >= n)
      return files.map((f) => ({ name: f, data: fs.readFileSync(path.join(b.dir, f)) }));
    await new Promise((r) => setTimeout(r, 50));
  }
  return fs.readdirSync(b.dir).map((f) => ({ name: f, data: fs.readFileSync(path.join(b.dir, f)) }));
}

function firstDiff(a, b) {
  if (a.length !== b.length)
    return `length ${a.length} != ${b.length}`;
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i])
      return `first difference at 0x${i.toString(16)}`;
  return null;
}

let passed = 0, failed = 0;
const checks = [];
function check(cond, what) {
  if (!cond)
    checks.push(what);
}
function same(actual, expected, what) {
  const d = firstDiff(actual, expected);
  check(!d, `${what}: ${d}`);
}

async function scenario(name, body) {
  if (only && !name.includes(only))
    return;
  checks.length = 0;
  let b = null;
  try {
    b = await body();
    if (b && b.errors.length)
      checks.push("page errors: " + b.errors.join("; "));
  } catch (e) {
    checks.push("threw: " + (e && e.stack || e));
  }
  if (checks.length) {
    failed++;
    console.log(`FAIL ${name}\n  ${checks.join("\n  ")}`);
    if (b)
      console.log("  log:\n" + (await log(b).catch(() => "")).replace(/^/gm, "    "));
  } else {
    passed++;
    console.log(`ok   ${name}`);
  }
  if (b)
    await b.page.close();
}

// ---- scenarios -----------------------------------------------------------
const tests = [];
const test = (name, body) => tests.push([name, body]);

test("detect shows the JEDEC ID and size", async () => {
  const b = await board();
  await click(b, "Connect");
  await click(b, "Detect");
  const l = await log(b);
  check(/JEDEC ID [0-9A-F]{6}/.test(l), "no JEDEC ID in the log");
  check(/2048 KiB/.test(l), "no 2048 KiB in the log");
  check(/target +Beken chip in SPI mode/.test(l), "no Beken entry line");
  same(await flash(b), dump(A), "flash after detect");
  return b;
});

test("read downloads a file equal to the flash", async () => {
  const b = await board();
  await click(b, "Connect");
  await click(b, "Read");
  const files = await downloads(b, 1);
  check(files.length === 1, `${files.length} downloads`);
  check(files[0] && /^[A-Za-z0-9-]+_read_\d{8}-\d{6}\.bin$/.test(files[0].name), `download name ${files[0] && files[0].name}`);
  if (files[0])
    same(files[0].data, dump(A), "downloaded read");
  check(/read +2048 KiB from 0x000000/.test(await log(b)), "no read line");
  check((await b.page.$eval("#bar", (e) => e.getAttribute("aria-valuenow"))) === "100", "progress not at 100");
  same(await flash(b), dump(A), "flash after read");
  return b;
});

test("read of a range (Offset, Length) downloads just that", async () => {
  const b = await board();
  await setField(b, "Offset", "0x11000");
  await setField(b, "Length", "4K");
  await click(b, "Read");
  const files = await downloads(b, 1);
  if (files[0])
    same(files[0].data, dump(A).subarray(0x11000, 0x12000), "downloaded range");
  check(files.length === 1, "no download");
  return b;
});

test("drag-and-drop write of another full dump keeps RF/MAC, backup first", async () => {
  const b = await board();
  await drop(b, B, dump(B));
  const info = await text(b, "file-info");
  check(/full flash dump/.test(info) && /BK7231N/.test(info) && /MAC/.test(info), "analysis missing: " + info);
  await click(b, "Connect");
  if (shotDir) {
    /* The README's picture: the page in the middle of the write. */
    const shot = (async () => {
      await b.page.waitForFunction(() => /Programming|Erasing/.test(document.getElementById("progress-text").textContent) &&
        Number(document.getElementById("bar").getAttribute("aria-valuenow")) > 30, { timeout: 120000, polling: 5 });
      await b.page.screenshot({ path: path.join(shotDir, "web-write.png"), fullPage: true });
    })();
    await click(b, "Write");
    await shot;
  } else {
    await click(b, "Write");
  }
  const l = await log(b);
  const files = await downloads(b, 1);
  check(files.length === 1 && /_backup_/.test(files[0].name), "backup download: " + files.map((f) => f.name));
  if (files[0])
    same(files[0].data, dump(A), "backup");
  check(l.indexOf("downloaded before anything is erased") >= 0 &&
        l.indexOf("downloaded before anything is erased") < l.indexOf("sectors "), "backup not downloaded first");
  check(/kept +this device's RF calibration and MAC/.test(l), "no kept line");
  const expected = Buffer.from(dump(B));
  dump(A).copy(expected, RF, RF, RF + 0x1000);
  same(await flash(b), expected, "flash after write");
  check(/wrote +2048 KiB/.test(l), "no wrote line");
  return b;
});

/* The application region of a dump, as an app-only (UA) image. */
function appOnly() {
  return dump(B).subarray(0x11000, 0x129f70);
}

test("app-only image at offset 0: refusal dialog, Cancel, then Write anyway", async () => {
  const b = await board();
  await drop(b, "app.bin", appOnly());
  await setField(b, "Offset", "0");
  await click(b, "Write");
  const open = await b.page.$eval("#refusal", (d) => d.open);
  check(open, "no refusal dialog");
  const dialog = await b.page.$('::-p-aria([role="alertdialog"])');
  check(dialog !== null, "dialog has no alertdialog role");
  const reason = await text(b, "refusal-text");
  check(/0x11000|application/i.test(reason), "reason: " + reason);
  await click(b, "Cancel");
  await b.page.waitForFunction(() => /: (done|failed)$/.test(document.getElementById("progress-text").textContent));
  same(await flash(b), dump(A), "flash after Cancel");
  check(/nothing was written/.test(await log(b)), "no cancelled line");
  await click(b, "Write");
  await click(b, "Write anyway");
  await b.page.waitForFunction(() => /: (done|failed)$/.test(document.getElementById("progress-text").textContent),
                               { timeout: 120000 });
  const expected = Buffer.from(dump(A));
  Buffer.from(appOnly()).copy(expected, 0);
  /* keep-rf: the RF sector is outside what was written, so untouched. */
  same(await flash(b), expected, "flash after Write anyway");
  return b;
});

/* Every other refusal the command line makes, each as the dialog; Cancel
 * leaves the flash as it was. */
function uf2() {
  const u = Buffer.alloc(1024);
  for (const off of [0, 512]) {
    u.writeUInt32LE(0x0a324655, off);
    u.writeUInt32LE(0x9e5d5157, off + 4);
    u.writeUInt32LE(0x0ab16f30, off + 508);
  }
  return u;
}
function rbl() {
  const r = Buffer.alloc(96 + 4096, 0x5a);
  r.write("RBL\0", 0, "latin1");
  return r;
}
const T = "bk7231t-tuya-ds-101jl-4gang-switch.bin";
/* A deterministic "random" file: no Beken image at all. */
function noise() {
  const n = Buffer.alloc(65536);
  let x = 12345;
  for (let i = 0; i < n.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    n[i] = x >>> 24;
  }
  return n;
}
/* A full dump of this chip's family with a few bytes of its app zeroed. */
function damaged() {
  const d = Buffer.from(dump(B));
  d.fill(0, 0x40000, 0x40400);
  return d;
}
for (const [what, name, bytes, offset] of [
  ["unrecognised bytes at 0", "noise.bin", noise, "0"],
  ["CRC-damaged full dump", "damaged.bin", damaged, "0"],
  ["full image at 0x11000", B, () => dump(B), "0x11000"],
  ["OTA package", "app.rbl", rbl, "0"],
  ["UF2 file", "app.uf2", uf2, "0"],
  ["wrong family", T, () => dump(T), "0"],
  ["rotated dump", "rotated.bin", () => dump("bk7231t-led-moon-18w-cct-rotated.bin"), "0"],
])
  test(`refusal: ${what}`, async () => {
    const b = await board();
    await drop(b, name, bytes());
    await setField(b, "Offset", offset);
    await click(b, "Write");
    const open = await b.page.$eval("#refusal", (d) => d.open);
    const reason = await text(b, "refusal-text");
    check(open && reason.length > 20, `no dialog (${await error(b)})`);
    if (open)
      await click(b, "Cancel");
    await b.page.waitForFunction(() => /: (done|failed)$/.test(document.getElementById("progress-text").textContent));
    same(await flash(b), dump(A), "flash after Cancel");
    return b;
  });

/* Oversize cannot be forced: it is an error sentence, not a dialog. */
test("oversize image: one sentence, nothing written", async () => {
  const b = await board();
  await drop(b, "big.bin", Buffer.concat([dump(B), dump(B)]));
  await click(b, "Write");
  check(!(await b.page.$eval("#refusal", (d) => d.open)), "a dialog for an oversize file");
  check(/end past the 2048 KiB flash/.test(await error(b)), "error: " + (await error(b)));
  same(await flash(b), dump(A), "flash");
  return b;
});

test("verify passes, then fails after a byte changes behind its back", async () => {
  const b = await board();
  await drop(b, A, dump(A));
  await click(b, "Verify");
  /* The device's RF sector is not compared: write keeps it, as the CLI says. */
  check(/verify +OK: 2093056 bytes/.test(await log(b)), "verify did not pass");
  check(/skipped +this device's RF calibration and MAC/.test(await log(b)), "no line about the skipped RF sector");
  check((await error(b)) === "", "error after passing verify: " + (await error(b)));
  await b.page.evaluate(() => bkTest.poke(0x150000, bkTest.flash()[0x150000] ^ 0x10));
  await click(b, "Verify");
  const e = await error(b);
  check(/differ|mismatch|verif/i.test(e), "no verify failure: " + e);
  const expected = Buffer.from(dump(A));
  expected[0x150000] ^= 0x10;
  same(await flash(b), expected, "flash after verify");
  return b;
});

test("erase of a range, after a backup", async () => {
  const b = await board();
  await setField(b, "Offset", "0x100000");
  await setField(b, "Length", "64K");
  await click(b, "Erase");
  const files = await downloads(b, 1);
  check(files.length === 1 && /_erase_/.test(files[0].name), "backup download: " + files.map((f) => f.name));
  if (files[0])
    same(files[0].data, dump(A), "erase backup");
  const expected = Buffer.from(dump(A));
  expected.fill(0xff, 0x100000, 0x110000);
  same(await flash(b), expected, "flash after erase");
  check(/erased +64 KiB at 0x100000/.test(await log(b)), "no erased line");
  return b;
});

test("misaligned erase range is one sentence with the fix", async () => {
  const b = await board();
  await setField(b, "Offset", "0x100");
  await setField(b, "Length", "4K");
  await click(b, "Erase");
  check(/4 KiB aligned/.test(await error(b)), "error: " + (await error(b)));
  same(await flash(b), dump(A), "flash after refused erase");
  return b;
});

for (const [style, word] of [["echo", "0xD2 echo"], ["flush", "long flush"]])
  test(`Beken reply style ${style}`, async () => {
    const b = await board(`style=${style}`);
    await click(b, "Detect");
    await click(b, "Read");
    const files = await downloads(b, 1);
    if (files[0])
      same(files[0].data, dump(A), "read");
    check(new RegExp(word).test(await log(b)), "no " + word + " in the log");
    same(await flash(b), dump(A), "flash");
    return b;
  });

test("flaky entry: detect succeeds on a later attempt", async () => {
  const b = await board("entry-fails=2");
  await click(b, "Detect");
  check(/attempt 3/.test(await log(b)), "not attempt 3");
  same(await flash(b), dump(A), "flash");
  return b;
});

test("generic SPI target", async () => {
  const b = await board("beken=0");
  await b.page.select("#target", "1");
  await click(b, "Detect");
  check(/plain SPI flash/.test(await log(b)), "no plain SPI line");
  same(await flash(b), dump(A), "flash");
  return b;
});

test("absent device: the picker finds nothing, then Connect works once plugged", async () => {
  const b = await board("", A, { present: false });
  await click(b, "Connect");
  const e = await error(b);
  check(/no CH341A was chosen/.test(e) && /Connect/.test(e), "error: " + e);
  await b.page.evaluate(() => bkTest.plug("", null, true));
  await click(b, "Connect");
  await click(b, "Detect");
  check(/JEDEC ID/.test(await log(b)), "no detect after plugging in");
  return b;
});

test("claim failure on Linux names the udev rule, a retry works", async () => {
  const b = await board();
  await b.page.evaluate(() => { bkTest.state.claimFails = true; });
  await click(b, "Connect");
  const e = await error(b);
  check(/cannot claim/.test(e) && /udev rule/.test(e), "error: " + e);
  await b.page.evaluate(() => { bkTest.state.claimFails = false; });
  await click(b, "Detect");
  check(/JEDEC ID/.test(await log(b)), "no detect after the claim works");
  same(await flash(b), dump(A), "flash");
  return b;
});

test("claim failure on Windows explains WinUSB with Zadig", async () => {
  const b = await board("", A, { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36" });
  await b.page.evaluate(() => { bkTest.state.claimFails = true; });
  await click(b, "Connect");
  const e = await error(b);
  check(/WinUSB/.test(e) && /Zadig/.test(e) && /put back/.test(e), "error: " + e);
  return b;
});

test("no WebUSB in the browser names the browsers that work", async () => {
  const b = await board("", A, { noUsb: true });
  const e = await error(b);
  check(/Chrome/.test(e) && /Firefox and Safari/.test(e), "error: " + e);
  await click(b, "Connect");
  check(/no WebUSB/.test(await error(b)), "connect error: " + (await error(b)));
  return b;
});

test("unplug mid-write: says what to do, a re-run completes", async () => {
  const b = await board();
  await drop(b, B, dump(B));
  /* Pulled out while programming, a few hundred packets in. */
  const pull = b.page.waitForFunction(() => /Programming/.test(document.getElementById("progress-text").textContent),
                                      { timeout: 120000, polling: 1 })
    .then(() => b.page.evaluate(() => bkTest.set("unplug-after=" + (bkTest.packets() + 300))));
  await click(b, "Write");
  await pull;
  const e = await error(b);
  check(/disconnected/.test(e) && /click Write again/.test(e) && /backup was saved as/.test(e), "error: " + e);
  const mid = await flash(b);
  check(firstDiff(mid, dump(A)) && firstDiff(mid, dump(B)), "the unplug did not stop the write half way");
  const before = await downloads(b, 1);
  check(before.length === 1 && /_backup_/.test(before[0].name), "no backup before the unplug");
  await b.page.evaluate(() => bkTest.replug());
  await click(b, "Write");
  check((await error(b)) === "", "re-run error: " + (await error(b)));
  const expected = Buffer.from(dump(B));
  dump(A).copy(expected, RF, RF, RF + 0x1000);
  same(await flash(b), expected, "flash after the re-run");
  return b;
});

test("the page at 360 px wide", async () => {
  const b = await board("", A, { width: 360 });
  const wide = await b.page.evaluate(() => document.documentElement.scrollWidth);
  check(wide <= 360, `page is ${wide} px wide`);
  for (const name of ["Connect", "Detect", "Read", "Write", "Verify", "Erase"])
    check((await button(b.page, name)) !== null, "no button " + name);
  await drop(b, B, dump(B));
  await click(b, "Connect");
  await click(b, "Detect");
  if (shotDir)
    await b.page.screenshot({ path: path.join(shotDir, "web-phone.png"), fullPage: true });
  return b;
});

// ---- the bench line ------------------------------------------------------
async function bench() {
  const b = await board("", A);
  await click(b, "Read");
  await drop(b, B, dump(B));
  await click(b, "Write");
  const l = await log(b);
  await b.page.close();
  const webRead = Number((l.match(/read +2048 KiB .* in ([0-9.]+) s/) || [])[1]);
  const webWrite = Number((l.match(/wrote +2048 KiB .* in ([0-9.]+) s/) || [])[1]);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "bkspi-web-bench-"));
  const img = path.join(tmp, "sim.bin");
  fs.copyFileSync(path.join(dumps, A), img);
  fs.chmodSync(img, 0o644);
  const run = (...args) => execFileSync(benchBkspi, ["-p", "sim", "--sim-image", img, ...args], { encoding: "utf8" });
  const natRead = Number((run("read", path.join(tmp, "r.bin")).match(/ in ([0-9.]+) s/) || [])[1]);
  const natWrite = Number((run("write", path.join(dumps, B)).match(/wrote +2048 KiB .* in ([0-9.]+) s/) || [])[1]);
  fs.rmSync(tmp, { recursive: true, force: true });
  const pct = (w, n) => ((100 * (w - n)) / n).toFixed(1);
  console.log(`web (WebUSB stand-in, virtual time): 2 MiB read ${webRead.toFixed(2)} s (native ${natRead.toFixed(2)} s, ${pct(webRead, natRead)} %), ` +
              `full write ${webWrite.toFixed(2)} s (native ${natWrite.toFixed(2)} s, ${pct(webWrite, natWrite)} %)`);
  const ok = Math.abs(webRead - natRead) <= 0.05 * natRead && Math.abs(webWrite - natWrite) <= 0.05 * natWrite;
  if (!ok)
    console.log("FAIL web bench: not within 5 % of the native figures");
  return ok;
}

try {
  if (benchBkspi) {
    const ok = await bench();
    process.exitCode = ok ? 0 : 1;
  } else {
    for (const [name, body] of tests)
      await scenario(name, body);
    console.log(`${passed} passed, ${failed} failed`);
    process.exitCode = failed ? 1 : 0;
  }
} finally {
  await browser.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
