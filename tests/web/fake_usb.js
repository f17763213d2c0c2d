/* A navigator.usb stand-in for the browser tests: the WebUSB surface the
 * page uses (requestDevice, getDevices, disconnect events; USBDevice open,
 * close, selectConfiguration, claimInterface, releaseInterface,
 * transferIn, transferOut, controlTransferIn/Out, reset) over the
 * project's emulator compiled to WebAssembly (build/web-test/emu.js, loaded
 * before this file as BkEmu).
 *
 * Each transfer becomes one of the emulator's own transfers; the promises
 * settle when the emulator completes them, in its virtual time. The device
 * runs only while the page waits (a macrotask after the page's microtasks),
 * as the emulator runs only inside the native host's wait. The emulator's
 * clock is the page's clock (globalThis.bkspiClock). The test drives it
 * through globalThis.bkTest. */
(function () {
  "use strict";
  const BK_EGONE = -15;
  const VID = 0x1a86, PID = 0x5512;
  let emu = null;          /* the Emscripten module */
  let g = 0;               /* struct glue * of the plugged device */
  let device = null;       /* the USBDevice stand-in while plugged */
  let permitted = false;   /* chosen once in the picker */
  const state = { present: true, pickerCancels: false, claimFails: false, config: "" };
  let clockBase = 0;       /* virtual time carried across replugs */
  const pending = new Map();
  let nextToken = 1, pumping = false;
  const usb = new EventTarget();
  const ready = BkEmu().then((m) => { emu = m; });

  const fn = (name, ret, args) => (...a) => emu.ccall(name, ret, args, a);
  const api = () => ({
    create: fn("emu_create", "number", ["string"]), destroy: fn("emu_destroy", null, ["number"]),
    submit: fn("emu_submit", "number", ["number", "number", "number", "number", "number"]),
    wait: fn("emu_wait", "number", ["number", "number"]), next: fn("emu_next", "number", ["number"]),
    token: fn("emu_token", "number", ["number"]), status: fn("emu_status", "number", ["number"]),
    actual: fn("emu_actual", "number", ["number"]), data: fn("emu_data", "number", ["number"]),
    release: fn("emu_release", null, ["number"]), now: fn("emu_now_us", "number", ["number"]),
    sleep: fn("emu_sleep_us", null, ["number", "number"]), flash: fn("emu_flash", "number", ["number"]),
    flashSize: fn("emu_flash_size", "number", ["number"]), set: fn("emu_set", "number", ["number", "string"]),
    packets: fn("emu_packets", "number", ["number"]),
  });
  let E = null;

  const domError = (name, msg) => new DOMException(msg, name);

  /* A macrotask without setTimeout's clamping. */
  const channel = new MessageChannel();
  channel.port1.onmessage = () => pump();
  function schedule() {
    if (!pumping) {
      pumping = true;
      channel.port2.postMessage(0);
    }
  }

  function unplugged() {
    if (!device)
      return;
    const dev = device;
    device = null;
    dev.opened = false;
    const ev = new Event("disconnect");
    Object.defineProperty(ev, "device", { value: dev });
    usb.dispatchEvent(ev);
  }

  function pump() {
    pumping = false;
    if (!g || !pending.size)
      return;
    E.wait(g, 0);
    let delivered = 0, gone = false;
    for (let t; (t = E.next(g));) {
      const p = pending.get(E.token(t));
      pending.delete(E.token(t));
      const status = E.status(t), n = E.actual(t);
      if (status === BK_EGONE)
        gone = true;
      if (p && status === 0) {
        const ptr = E.data(t);
        p.resolve(p.isIn ? { status: "ok", data: new DataView(emu.HEAPU8.slice(ptr, ptr + n).buffer) }
                         : { status: "ok", bytesWritten: n });
      } else if (p) {
        p.reject(domError("NetworkError", "A transfer error has occurred."));
      }
      E.release(t);
      delivered++;
    }
    if (gone)
      unplugged();
    if (delivered && pending.size)
      schedule();
  }

  function transfer(dev, isIn, ep, bytes, len) {
    if (dev !== device || !dev.opened)
      return Promise.reject(domError("NotFoundError", "The device was disconnected."));
    if (!dev.claimed)
      return Promise.reject(domError("InvalidStateError", "The specified interface has not been claimed."));
    if (ep !== 2)
      return Promise.reject(domError("NotFoundError", "The specified endpoint is not part of a claimed and selected alternate interface."));
    const token = nextToken++;
    const ptr = emu._malloc(len || 1);
    if (bytes)
      emu.HEAPU8.set(bytes, ptr);
    const r = E.submit(g, token, isIn ? 1 : 0, ptr, len);
    emu._free(ptr);
    if (r === BK_EGONE) {
      unplugged();
      return Promise.reject(domError("NetworkError", "A transfer error has occurred."));
    }
    if (r)
      return Promise.reject(domError("NetworkError", "A transfer error has occurred."));
    return new Promise((resolve, reject) => {
      pending.set(token, { resolve, reject, isIn });
      schedule();
    });
  }

  class FakeUSBDevice {
    constructor() {
      Object.assign(this, { vendorId: VID, productId: PID, productName: "USB UART-LPT", manufacturerName: "wch.cn",
                            serialNumber: "", opened: false, configuration: null, claimed: false });
      this.configurations = [{ configurationValue: 1, interfaces: [{ interfaceNumber: 0 }] }];
    }
    async open() {
      if (this !== device)
        throw domError("NotFoundError", "The device was disconnected.");
      this.opened = true;
    }
    async close() {
      this.opened = false;
      this.claimed = false;
    }
    async selectConfiguration(n) {
      if (!this.opened)
        throw domError("InvalidStateError", "The device must be opened first.");
      if (n !== 1)
        throw domError("NotFoundError", "The configuration value provided is not supported by the device.");
      this.configuration = this.configurations[0];
    }
    async claimInterface(i) {
      if (!this.opened || !this.configuration)
        throw domError("InvalidStateError", "The device must be opened first.");
      if (state.claimFails || i !== 0)
        throw domError("NetworkError", "Unable to claim interface.");
      this.claimed = true;
    }
    async releaseInterface() {
      this.claimed = false;
    }
    async reset() {}
    async controlTransferIn() { return { status: "ok", data: new DataView(new ArrayBuffer(0)) }; }
    async controlTransferOut() { return { status: "ok", bytesWritten: 0 }; }
    transferOut(ep, data) {
      const bytes = data instanceof ArrayBuffer ? new Uint8Array(data)
        : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
      return transfer(this, false, ep, bytes, bytes.length);
    }
    transferIn(ep, len) {
      return transfer(this, true, ep, null, len);
    }
  }

  function plug(config, flash) {
    if (g) {
      clockBase = E.now(g);
      E.destroy(g);
    }
    g = E.create(config);
    if (!g)
      throw new Error("emulator config rejected: " + config);
    E.sleep(g, clockBase);
    if (flash)
      emu.HEAPU8.set(flash, E.flash(g));
    pending.clear();
    device = new FakeUSBDevice();
  }

  usb.getDevices = async () => {
    await ready;
    return permitted && device ? [device] : [];
  };
  usb.requestDevice = async (opts) => {
    await ready;
    const wanted = (opts && opts.filters) || [];
    const match = wanted.some((f) => (f.vendorId === undefined || f.vendorId === VID) &&
                                     (f.productId === undefined || f.productId === PID));
    if (!device || !state.present || state.pickerCancels || !match)
      throw domError("NotFoundError", "No device selected.");
    permitted = true;
    return device;
  };

  globalThis.bkspiClock = {
    now_us: () => (g ? E.now(g) : clockBase),
    sleep_us: (us) => {
      if (g)
        E.sleep(g, us);
      return Promise.resolve();
    },
  };

  globalThis.bkTest = {
    ready,
    /* A new board: the emulator with these switches and, when given, this
     * flash content. present false: nothing is plugged in. */
    async plug(config, flash, present = true) {
      await ready;
      E = E || api();
      state.present = present;
      state.config = config || "";
      plug(state.config, flash);
      if (!present)
        device = null;
    },
    /* Plugs the same board in again (unplug, replug): same flash. */
    replug() {
      const f = this.flash();
      plug(state.config.replace(/(^|,)unplug-after=\d+/, ""), f);
    },
    set: (kv) => E.set(g, kv),
    flash: () => {
      const p = E.flash(g);
      return emu.HEAPU8.slice(p, p + E.flashSize(g));
    },
    poke: (addr, byte) => { emu.HEAPU8[E.flash(g) + addr] = byte; },
    packets: () => E.packets(g),
    now_us: () => E.now(g),
    state,
  };

  Object.defineProperty(navigator, "usb", { value: usb, configurable: true });
})();
