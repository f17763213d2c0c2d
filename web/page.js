/* The page: buttons, the dropped file, downloads, the progress bar and
 * the log. Every step runs in the C core (web/api.c over include/bkspi.h);
 * this file only collects input and shows what comes back. Appended to
 * bkspi.js by emcc (--post-js), so the page has one script. */
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const ui = {};
  let session = 0;          /* the C session (struct web *) */
  let file = null;          /* { name, bytes } of the chosen firmware */
  let busy = false;
  let phase = null;         /* progress phase: name, start time */
  let backupSent = false;

  /* A stand-in USB device (the emulator in the tests) brings its own clock. */
  if (globalThis.bkspiClock)
    Module.bkClock = globalThis.bkspiClock;

  function log(text) {
    ui.log.textContent += text + "\n";
    ui.log.scrollTop = ui.log.scrollHeight;
  }
  Module.bkLine = log;
  Module.print = log;
  Module.printErr = (t) => console.warn(t);

  function setProgress(pct, text) {
    ui.bar.setAttribute("aria-valuenow", String(Math.round(pct)));
    ui.bar.firstElementChild.style.width = pct + "%";
    ui.progressText.textContent = text;
  }

  const phaseNames = { backup: "Backing up", read: "Reading", confirm: "Confirming", erase: "Erasing",
                       program: "Programming", verify: "Verifying" };

  Module.bkProgress = function (name, done, total, nowUs) {
    if (!phase || phase.name !== name)
      phase = { name, startUs: nowUs, startDone: done };
    /* The backup is on disk before the first erase or program: hand it
     * over now, before anything on the chip changes. */
    if ((name === "erase" || name === "program") && !backupSent)
      sendBackup(" before anything is erased");
    const pct = total ? (100 * done) / total : 0;
    const secs = (nowUs - phase.startUs) / 1e6;
    const rate = secs > 0 ? (done - phase.startDone) / 1000 / secs : 0;
    const eta = rate > 0 ? (total - done) / 1000 / rate : 0;
    setProgress(pct, `${phaseNames[name] || name}: ${Math.floor(done / 1024)} of ${Math.floor(total / 1024)} KiB` +
                (rate > 0 ? `, ${rate.toFixed(1)} KB/s, ${Math.ceil(eta)} s left` : ""));
  };

  function download(name, bytes) {
    const url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  }

  function sendBackup(when) {
    const path = Module.ccall("bkw_backup_path", "string", ["number"], [session]);
    if (!path || backupSent)
      return;
    let bytes;
    try {
      bytes = FS.readFile(path);
    } catch (e) {
      return; /* not saved yet: nothing was read */
    }
    backupSent = true;
    const name = path.slice(path.lastIndexOf("/") + 1);
    download(name, bytes);
    log(`backup      ${name} downloaded${when}`);
  }

  /* The in-memory copy is dropped once the job (and its message) is done. */
  function dropBackup() {
    const path = Module.ccall("bkw_backup_path", "string", ["number"], [session]);
    try {
      if (path)
        FS.unlink(path);
    } catch (e) {
      /* never saved */
    }
  }

  function showError(rep) {
    const msg = rep.error ? rep.error.message : "";
    ui.error.textContent = msg;
    if (msg)
      log("error       " + msg);
  }

  function setBusy(on) {
    busy = on;
    for (const b of ui.buttons)
      b.disabled = on;
    ui.target.disabled = on;
  }

  /* Runs one C call that may wait on USB (ASYNCIFY): one at a time. */
  async function call(fn, types, args) {
    const text = await Module.ccall(fn, "string", ["number"].concat(types), [session].concat(args), { async: true });
    return JSON.parse(text);
  }

  function withBytes(bytes, f) {
    const p = Module._malloc(bytes.length || 1);
    HEAPU8.set(bytes, p);
    try {
      return f(p);
    } finally {
      Module._free(p);
    }
  }

  async function job(title, body) {
    if (busy)
      return;
    setBusy(true);
    ui.error.textContent = "";
    phase = null;
    backupSent = false;
    setProgress(0, title + "...");
    let ok = false;
    try {
      ok = await body();
    } catch (e) {
      ui.error.textContent = "internal error: " + e;
      log("error       internal error: " + e);
    }
    sendBackup(" (saved before the job stopped)");
    dropBackup();
    setProgress(ok ? 100 : Number(ui.bar.getAttribute("aria-valuenow")), ok ? title + ": done" : title + ": failed");
    setBusy(false);
  }

  /* The command line pulses CEN after every Beken job so the chip boots. */
  async function release() {
    const rep = await call("bkw_reset", [], []);
    if (!rep.ok)
      showError(rep);
  }

  async function finish(rep) {
    if (!rep.ok) {
      showError(rep);
      if (rep.error && /EGONE|ENODEV|EBUSY|EACCESS|ENOUSB|EINVAL|EREFUSED/.test(rep.error.name))
        return false;
    }
    await release();
    return rep.ok;
  }

  const connect = () => job("Connect", async () => {
    const rep = await call("bkw_connect", [], []);
    if (!rep.ok)
      showError(rep);
    return rep.ok;
  });

  const detect = () => job("Detect", async () => finish(await call("bkw_detect", [], [])));

  const read = () => job("Read", async () => {
    const rep = await call("bkw_read", ["string", "string"], [ui.offset.value.trim(), ui.length.value.trim()]);
    if (rep.ok) {
      const p = Module.ccall("bkw_data", "number", ["number"], [session]);
      const n = Module.ccall("bkw_data_len", "number", ["number"], [session]);
      download(rep.file, HEAPU8.slice(p, p + n));
    }
    return finish(rep);
  });

  function needFile() {
    if (file)
      return true;
    ui.error.textContent = "Choose the firmware file first: drop it on the page or use \"Firmware file\".";
    log("error       " + ui.error.textContent);
    return false;
  }

  function flags(force) {
    return (force ? 1 : 0) | (ui.keepRf.checked ? 2 : 0) | (ui.keepTuya.checked ? 4 : 0) | (ui.doVerify.checked ? 0 : 8);
  }

  /* Asks before doing what the command line refuses without --force. */
  function askForce(message) {
    return new Promise((resolve) => {
      ui.refusalText.textContent = message;
      const done = (answer) => {
        ui.refusal.close();
        ui.refusalCancel.onclick = ui.refusalForce.onclick = null;
        resolve(answer);
      };
      ui.refusalCancel.onclick = () => done(false);
      ui.refusalForce.onclick = () => done(true);
      ui.refusal.oncancel = (ev) => { ev.preventDefault(); done(false); };
      ui.refusal.showModal();
      ui.refusalCancel.focus();
    });
  }

  const write = () => {
    if (!needFile())
      return;
    job("Write", async () => {
      const offset = ui.offset.value.trim();
      let force = false;
      const check = JSON.parse(withBytes(file.bytes, (p) =>
        Module.ccall("bkw_write_check", "string", ["number", "number", "number", "string"],
                     [session, p, file.bytes.length, offset])));
      if (check.refused) {
        force = await askForce(check.error.message);
        if (!force) {
          log("cancelled   nothing was written: " + check.error.message);
          return false;
        }
      } else if (!check.ok) {
        showError(check);
        return false;
      }
      for (;;) {
        const p = Module._malloc(file.bytes.length || 1);
        HEAPU8.set(file.bytes, p);
        let rep;
        try {
          rep = await call("bkw_write", ["number", "number", "string", "number"],
                           [p, file.bytes.length, offset, flags(force)]);
        } finally {
          Module._free(p);
        }
        /* Refusals that need the chip (its family, its size) come only now. */
        if (rep.refused && !force) {
          await release();
          if (!(force = await askForce(rep.error.message))) {
            log("cancelled   nothing was written: " + rep.error.message);
            return false;
          }
          continue;
        }
        return finish(rep);
      }
    });
  };

  const verify = () => {
    if (!needFile())
      return;
    job("Verify", async () => {
      const p = Module._malloc(file.bytes.length || 1);
      HEAPU8.set(file.bytes, p);
      try {
        return finish(await call("bkw_verify", ["number", "number", "string", "number"],
                                 [p, file.bytes.length, ui.offset.value.trim(), flags(false)]));
      } finally {
        Module._free(p);
      }
    });
  };

  const erase = () => job("Erase", async () =>
    finish(await call("bkw_erase", ["string", "string"], [ui.offset.value.trim(), ui.length.value.trim()])));

  async function takeFile(f) {
    if (!f || busy)
      return;
    const bytes = new Uint8Array(await f.arrayBuffer());
    file = { name: f.name, bytes };
    ui.error.textContent = "";
    const before = ui.log.textContent.length;
    const rep = JSON.parse(withBytes(bytes, (p) =>
      Module.ccall("bkw_info", "string", ["number", "string", "number", "number"], [session, f.name, p, bytes.length])));
    ui.fileInfo.textContent = ui.log.textContent.slice(before);
    if (!rep.ok)
      showError(rep);
  }

  function start() {
    Object.assign(ui, {
      log: $("log"), bar: $("bar"), progressText: $("progress-text"), error: $("error"), target: $("target"),
      offset: $("offset"), length: $("length"), keepRf: $("keep-rf"), keepTuya: $("keep-tuya"),
      doVerify: $("do-verify"), fileInfo: $("file-info"), refusal: $("refusal"), refusalText: $("refusal-text"),
      refusalCancel: $("refusal-cancel"), refusalForce: $("refusal-force"),
    });
    ui.buttons = ["connect", "detect", "read", "write", "verify", "erase"].map($);
    session = Module.ccall("bkw_new", "number", [], []);
    $("connect").onclick = connect;
    $("detect").onclick = detect;
    $("read").onclick = read;
    $("write").onclick = write;
    $("verify").onclick = verify;
    $("erase").onclick = erase;
    ui.target.onchange = () => Module.ccall("bkw_set_target", "number", ["number", "number"],
                                            [session, Number(ui.target.value)]);
    $("file").onchange = (ev) => takeFile(ev.target.files[0]);
    let depth = 0;
    document.addEventListener("dragenter", (ev) => { ev.preventDefault(); depth++; document.body.classList.add("dragging"); });
    document.addEventListener("dragleave", () => { if (--depth <= 0) { depth = 0; document.body.classList.remove("dragging"); } });
    document.addEventListener("dragover", (ev) => ev.preventDefault());
    document.addEventListener("drop", (ev) => {
      ev.preventDefault();
      depth = 0;
      document.body.classList.remove("dragging");
      takeFile(ev.dataTransfer.files[0]);
    });
    if (!("usb" in navigator)) {
      ui.error.textContent = "This browser has no WebUSB: open the page in Chrome, Edge, Opera or another " +
        "Chromium browser (Firefox and Safari do not support WebUSB).";
      log("error       " + ui.error.textContent);
    }
    log("ready       bkspi in the browser: click Connect, then Detect");
    document.body.dataset.ready = "1";
  }

  Module.onRuntimeInitialized = start;
})();
