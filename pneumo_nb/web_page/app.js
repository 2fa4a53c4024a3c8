// pneumo_nb's static page: scores dropped PNG/JPEG chest X-rays with an exported web graph (pneumo_export --web) in
// onnxruntime-web, on the reader's machine. No framework, no build step. The graph does the preprocessing, the model,
// test-time augmentation, the out-of-distribution score and the CAM heatmap; this file decodes, draws and tabulates.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { models: [], cards: {}, sessions: {}, current: null, files: [], rows: [], runId: 0 };
  const keep = new URLSearchParams(location.search).has('keep');   // tests: keep each graph input (window.pneumoInputs)
  window.pneumoInputs = {};
  window.pneumoResults = [];
  window.pneumoReady = false;

  if (location.protocol === 'file:') { $('fileproto').style.display = 'block'; }
  ort.env.wasm.wasmPaths = new URL('vendor/', location.href).href;
  ort.env.wasm.numThreads = 1;    // no cross-origin isolation on a plain static server: one thread, no worker
  ort.env.wasm.proxy = false;

  const status = (s) => { $('status').textContent = s; };

  async function loadJSON(url) {
    const r = await fetch(url);
    if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
    return r.json();
  }

  async function session(name) {
    if (!state.sessions[name]) {
      const m = state.models.find((x) => x.name === name);
      state.sessions[name] = ort.InferenceSession.create(m.onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    }
    return state.sessions[name];
  }

  function isDicom(name, bytes) {
    if (/\.(dcm|dicom)$/i.test(name)) return true;
    return bytes.length >= 132 && bytes[128] === 68 && bytes[129] === 73 && bytes[130] === 67 && bytes[131] === 77;   // 'DICM'
  }

  async function decode(file) {
    // the pixels as stored: no colour management, no premultiplied alpha, EXIF orientation applied (as PIL's exif_transpose)
    const bmp = await createImageBitmap(file, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
    const c = document.createElement('canvas');
    c.width = bmp.width; c.height = bmp.height;
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.drawImage(bmp, 0, 0);
    const img = ctx.getImageData(0, 0, bmp.width, bmp.height);
    bmp.close();
    let transparent = false;   // a canvas keeps no colour under a transparent pixel (PIL keeps it): such a file can score otherwise
    for (let i = 3; i < img.data.length; i += 4) if (img.data[i] !== 255) { transparent = true; break; }
    return { canvas: c, data: img.data, h: img.height, w: img.width, transparent };
  }

  function reasonOf(card, comps, colour) {
    if (colour > card.ood.colour_limit) return `a colour picture (colourfulness ${colour.toFixed(0)} > ${card.ood.colour_limit.toFixed(0)}), not a radiograph`;
    let k = 0;
    for (let i = 1; i < comps.length; i++) if (comps[i] > comps[k]) k = i;
    return `not like the training X-rays (largest: ${card.ood.components[k]}, ${comps[k].toFixed(2)} x its threshold)`;
  }

  function heatCanvas(heat, hh, hw) {
    let lo = Infinity, hi = -Infinity, peak = 0;
    for (let i = 0; i < heat.length; i++) { if (heat[i] < lo) lo = heat[i]; if (heat[i] > hi) { hi = heat[i]; peak = i; } }
    const c = document.createElement('canvas'); c.width = hw; c.height = hh;
    const ctx = c.getContext('2d'); const im = ctx.createImageData(hw, hh);
    for (let i = 0; i < heat.length; i++) {
      const v = hi > lo ? (heat[i] - lo) / (hi - lo) : 0;    // jet-like: blue -> green -> red
      im.data[4 * i] = 255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 3)));
      im.data[4 * i + 1] = 255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 2)));
      im.data[4 * i + 2] = 255 * Math.min(1, Math.max(0, 1.5 - Math.abs(4 * v - 1)));
      im.data[4 * i + 3] = 110;
    }
    ctx.putImageData(im, 0, 0);
    return { canvas: c, peak: [Math.floor(peak / hw), peak % hw] };
  }

  function addRow(r) {
    const tr = document.createElement('tr');
    tr.dataset.file = r.file; tr.dataset.prob = r.prob; tr.dataset.label = r.label; tr.dataset.ood = String(r.ood);
    tr.dataset.oodScore = r.ood_score; tr.dataset.peak = r.peak ? r.peak.join(',') : ''; tr.dataset.ms = r.ms;
    tr.dataset.model = r.model; if (r.transparent) tr.dataset.transparent = 'true';
    for (const v of [r.file, r.prob === '' ? '' : r.prob.toFixed(4), r.label, r.ood_score === '' ? '' : r.ood_score.toFixed(3), String(r.ood), r.reason]) {
      const td = document.createElement('td'); td.textContent = v; tr.appendChild(td);
    }
    document.querySelector('#results tbody').appendChild(tr);
  }

  function addCard(r, shown, heat, card) {
    const d = document.createElement('div'); d.className = 'card' + (r.ood ? ' ood' : ''); d.dataset.file = r.file;
    const name = document.createElement('div'); name.className = 'name'; name.textContent = r.file; name.title = r.file; d.appendChild(name);
    if (shown) {
      const box = document.createElement('div'); box.className = 'img';
      shown.style.width = shown.style.height = '224px'; box.appendChild(shown);
      if (heat) { heat.className = 'heat'; heat.style.display = $('heat').checked ? '' : 'none'; box.appendChild(heat); }
      d.appendChild(box);
    }
    const info = document.createElement('div');
    if (r.prob === '') { info.innerHTML = '<span class="refused"></span>'; info.firstChild.textContent = r.reason; }
    else {
      info.innerHTML = `<div class="bar" title="probability of PNEUMONIA; red mark: threshold ${card.threshold}">
        <div class="fill" style="width:${(100 * r.prob).toFixed(1)}%"></div><div class="thr" style="left:${(100 * card.threshold).toFixed(1)}%"></div></div>
        <div>p(PNEUMONIA) = ${r.prob.toFixed(3)} (threshold ${card.threshold})</div><div class="label"><b>${r.label}</b></div>`;
      if (r.transparent) {
        const m = document.createElement('div');
        m.textContent = 'Has transparent pixels: the browser cannot see their colour, so this score can differ from pneumo_predict.';
        info.appendChild(m);
      }
      if (r.ood) {
        const m = document.createElement('div'); m.className = 'oodmsg';
        m.textContent = 'Unlike the X-rays this model was trained on: ' + r.reason + '. Its score means nothing.';
        info.appendChild(m);
      }
    }
    d.appendChild(info);
    $('cards').appendChild(d);
  }

  async function scoreFile(file, name, runId) {
    const card = state.cards[name];
    const bytes = new Uint8Array(await file.slice(0, 132).arrayBuffer());
    const base = { file: file.name, model: name, prob: '', label: '', ood_score: '', ood: '', reason: '', peak: null, ms: '' };
    if (isDicom(file.name, bytes)) return { row: { ...base, reason: 'DICOM is not read in the browser: score it with pneumo_predict (it reads DICOM and checks its Modality)' } };
    let img;
    try { img = await decode(file); }
    catch (e) { return { row: { ...base, reason: `not an image the browser can decode (${e.message || e})` } }; }
    const s = await session(name);
    if (runId !== state.runId) return null;
    const t0 = performance.now();
    const out = await s.run({ images: new ort.Tensor('uint8', img.data, [1, img.h, img.w, 4]) });
    const ms = performance.now() - t0;
    if (keep) window.pneumoInputs[file.name] = img;
    const prob = out.prob_pneumonia.data[0], oodScore = out.ood_score.data[0], colour = out.colourfulness.data[0];
    const comps = Array.from(out.ood_components.data);
    const ood = oodScore > card.ood.threshold || colour > card.ood.colour_limit;
    const [, hh, hw] = out.heatmap.dims;
    const hm = heatCanvas(out.heatmap.data, hh, hw);
    const row = { ...base, prob, label: prob >= card.threshold ? card.classes[1] : card.classes[0], ood_score: oodScore, ood,
                  reason: ood ? reasonOf(card, comps, colour) : '', peak: hm.peak, ms, heat: Array.from(out.heatmap.data), heat_shape: [hh, hw],
                  colourfulness: colour, components: comps, transparent: img.transparent };
    return { row, shown: img.canvas, heat: hm.canvas };
  }

  async function scoreAll() {
    const runId = ++state.runId, name = state.current;
    document.querySelector('#results tbody').innerHTML = ''; $('cards').innerHTML = ''; state.rows = []; window.pneumoResults = [];
    let n = 0;
    for (const f of state.files) {
      const res = await scoreFile(f, name, runId);
      if (!res || runId !== state.runId) return;
      state.rows.push(res.row); window.pneumoResults.push(res.row);
      if (window.pneumoFirstResultMs === undefined) window.pneumoFirstResultMs = performance.now();
      addRow(res.row); addCard(res.row, res.shown, res.heat, state.cards[name]);
      status(`${++n} of ${state.files.length} scored with ${name}`);
    }
    window.pneumoDoneMs = performance.now();
    window.pneumoDone = state.files.length;
  }

  function csv() {
    const q = (v) => /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
    const head = ['path', 'prob_pneumonia', 'label', 'ood_score', 'ood', 'ood_reason', 'model'];
    return [head.join(',')].concat(state.rows.map((r) => [r.file, r.prob, r.label, r.ood_score, r.ood, r.reason, r.model].map(q).join(','))).join('\n') + '\n';
  }

  let loaded = null;   // the models' list and cards, and the first model's session: files dropped before wait for it
  function addFiles(list) {
    state.files = state.files.concat(Array.from(list));
    window.pneumoDone = undefined;
    loaded.then(scoreAll).catch((e) => status('error: ' + (e.message || e)));
  }

  async function main() {
    const idx = await loadJSON('models.json');
    state.models = idx.models;
    session(state.models[0].name);   // compile the runtime and load the first model while the cards arrive
    const cards = await Promise.all(state.models.map((m) => loadJSON(m.card)));
    state.models.forEach((m, i) => {
      state.cards[m.name] = cards[i];
      const o = document.createElement('option'); o.value = o.textContent = m.name; $('model').appendChild(o);
    });
    const pick = (name) => { state.current = name; $('cardlink').href = state.models.find((x) => x.name === name).card; };
    pick(state.models[0].name);
    $('model').addEventListener('change', () => { pick($('model').value); if (state.files.length) scoreAll(); });
    $('heat').addEventListener('change', () => document.querySelectorAll('canvas.heat').forEach((c) => { c.style.display = $('heat').checked ? '' : 'none'; }));
    $('copy').addEventListener('click', () => navigator.clipboard.writeText(csv().replace(/,/g, '\t')));
    $('csv').addEventListener('click', () => {
      const a = document.createElement('a'); a.href = URL.createObjectURL(new Blob([csv()], { type: 'text/csv' }));
      a.download = 'pneumo_predictions.csv'; a.click(); setTimeout(() => URL.revokeObjectURL(a.href), 1000);
    });
    $('clear').addEventListener('click', () => { state.files = []; scoreAll(); status('cleared'); });
    status(`loading ${state.current}…`);
    await session(state.current);
    window.pneumoReady = true;
    status(`ready: ${state.current} (drop images)`);
  }
  window.pneumoCSV = csv;
  $('files').addEventListener('change', (e) => addFiles(e.target.files));
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); addFiles(e.dataTransfer.files); });
  loaded = main();
  loaded.catch((e) => { status(location.protocol === 'file:' ? 'cannot load the models from a file:// page: serve the folder (see above)' : 'error: ' + (e.message || e)); console.error(e); });
})();
