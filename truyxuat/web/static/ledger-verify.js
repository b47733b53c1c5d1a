// Checks truyxuat ledger bundles in the browser, with no library: the leaf is rebuilt from the
// event hash and its salt (WebCrypto SHA-256), its inclusion proof must lead to the root of the
// signed checkpoint, and the checkpoint's Ed25519 signatures (log key, then witness
// cosignatures, C2SP signed-note / tlog-cosignature) are verified where the browser has Ed25519.
"use strict";
(function () {
  const enc = new TextEncoder();

  function b64(text) {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  }

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }

  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  function same(a, b) {
    return a.length === b.length && a.every((v, i) => v === b[i]);
  }

  function fail(reason) { throw new Error(reason); }

  // RFC 9162 section 2.1.3.2: the root an audit path leads to.
  async function rootFromInclusion(leaf, index, size, proof) {
    if (!(index >= 0 && index < size)) fail("leaf index outside the tree");
    let fn = index, sn = size - 1, r = leaf;
    for (const p of proof) {
      if (p.length !== 32) fail("proof hash of the wrong length");
      if (sn === 0) fail("inclusion proof too long");
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat([1], p, r));
        while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await sha256(concat([1], r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    if (sn !== 0) fail("inclusion proof too short");
    return r;
  }

  // A verifier key: name+hex key ID+base64(type || public key).
  async function parseKey(vkey) {
    const first = vkey.indexOf("+"), second = vkey.indexOf("+", first + 1);
    if (first < 1 || second < 0) fail("malformed key");
    const name = vkey.slice(0, first);
    const raw = b64(vkey.slice(second + 1));
    if (raw.length !== 33) fail("not an Ed25519 key");
    const id = (await sha256(concat(enc.encode(name + "\n"), raw))).slice(0, 4);
    const hex = Array.from(id, (v) => v.toString(16).padStart(2, "0")).join("");
    if (hex !== vkey.slice(first + 1, second)) fail("key ID does not match the key");
    return { name, type: raw[0], pub: raw.slice(1), id };
  }

  async function ed25519(pub, signature, message) {
    let key;
    try {
      key = await crypto.subtle.importKey("raw", pub, { name: "Ed25519" }, false, ["verify"]);
    } catch (e) {
      return null; // this browser has no Ed25519
    }
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  function signatureLines(note) {
    const cut = note.lastIndexOf("\n\n");
    if (cut < 0) fail("the checkpoint is not a signed note");
    const body = note.slice(0, cut + 1);
    const lines = note.slice(cut + 2).split("\n").filter((l) => l);
    return {
      body,
      sigs: lines.map((line) => {
        if (!line.startsWith("\u2014 ")) fail("malformed signature line");
        const space = line.lastIndexOf(" ");
        const raw = b64(line.slice(space + 1));
        return { name: line.slice(2, space), id: raw.slice(0, 4), sig: raw.slice(4) };
      }),
    };
  }

  async function verify(bundle) {
    if (bundle.format !== "truyxuat-ledger-bundle/v1") fail("unknown bundle format");
    const data = await sha256(concat(b64(bundle.salt), enc.encode(bundle.kind + "\n" + bundle.payload)));
    const leaf = await sha256(concat([0], data));
    const { body, sigs } = signatureLines(bundle.checkpoint);
    const [origin, sizeText, rootText] = body.split("\n");
    const size = Number(sizeText);
    if (size !== bundle.tree_size) fail("tree size differs from the checkpoint");
    const root = await rootFromInclusion(
      leaf, bundle.leaf_index, size, bundle.inclusion_proof.map(b64));
    if (!same(root, b64(rootText))) fail("the proof does not lead to the checkpoint's root");
    const logKey = await parseKey(bundle.log_key);
    if (logKey.name !== origin || logKey.type !== 1) fail("the log key does not name this log");
    const bodyBytes = enc.encode(body);
    const mine = sigs.find((s) => s.name === logKey.name && same(s.id, logKey.id));
    if (!mine) fail("the checkpoint is not signed by the log key");
    const ok = await ed25519(logKey.pub, mine.sig, bodyBytes);
    if (ok === false) fail("the checkpoint signature does not verify");
    const witnesses = [];
    for (const vkey of bundle.witness_keys || []) {
      const w = await parseKey(vkey);
      const line = sigs.find((s) => s.name === w.name && same(s.id, w.id));
      if (!line || w.type !== 4 || line.sig.length !== 72) fail("missing cosignature of " + w.name);
      let time = 0n;
      for (const v of line.sig.slice(0, 8)) time = time * 256n + BigInt(v);
      const message = concat(enc.encode("cosignature/v1\ntime " + time + "\n"), bodyBytes);
      const good = await ed25519(w.pub, line.sig.slice(8), message);
      if (good === false) fail("the cosignature of " + w.name + " does not verify");
      witnesses.push(w.name);
    }
    return { size, witnesses, signed: ok === true };
  }

  async function check(badge) {
    const status = badge.querySelector(".ledger-status");
    const say = (state, text) => { badge.dataset.state = state; status.textContent = text; };
    try {
      const bundle = JSON.parse(badge.querySelector("script[data-ledger-bundle]").textContent);
      const result = await verify(bundle);
      const names = result.witnesses.length ? result.witnesses.join(", ") : badge.dataset.textNoWitness;
      const template = result.signed ? badge.dataset.textVerified : badge.dataset.textUnsigned;
      say(result.signed ? "verified" : "unsigned",
        template.replace("{size}", result.size).replace("{witnesses}", names));
    } catch (e) {
      say("failed", badge.dataset.textFailed.replace("{reason}", e.message));
    }
  }

  function run() {
    document.querySelectorAll("[data-ledger-badge]").forEach(check);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", run);
  else run();
})();
