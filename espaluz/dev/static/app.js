// Espaluz local WhatsApp simulator.
//
// The page plays the learner's phone. It sends what the learner types through the dev server
// (POST /dev/simulator/messages, which signs and posts a webhook payload to the real endpoint) and shows
// what the tutor sent to the Graph API emulator (GET /dev/outbox, polled). Plain ES2020, no dependencies.
//
// What lives where:
//   - the tutor's messages come from the outbox every time (a reload re-reads the whole outbox);
//   - the learner's own messages exist only here, so they are kept in localStorage, one list per learner;
//   - ticks: pending (POST in flight) -> sent (webhook answered 200) -> read (the outbox holds the tutor's
//     mark-as-read for that wamid or a later one); failed (red "!") when the webhook did not answer 200.
"use strict";

(() => {
  const POLL_MS = 400;
  const TYPING_MS = 25000;
  const LS = "espaluz.sim.v1.";
  const FALLBACK_LEARNER = { wa_id: "15550000001", name: "Ana" };

  const $ = (id) => document.getElementById(id);
  const el = {
    messages: $("messages"),
    chat: $("chat"),
    intro: $("intro-note"),
    headerName: $("header-name"),
    headerStatus: $("header-status"),
    banner: $("banner"),
    form: $("composer-form"),
    composer: $("composer"),
    pill: $("composer-pill"),
    send: $("send"),
    mic: $("mic"),
    attach: $("attach"),
    fileInput: $("file-input"),
    recording: $("recording"),
    recTime: $("rec-time"),
    recCancel: $("rec-cancel"),
    sheetBackdrop: $("sheet-backdrop"),
    sheetTitle: $("sheet-title"),
    sheetBody: $("sheet-body"),
    sheetClose: $("sheet-close"),
    settingsBackdrop: $("settings-backdrop"),
    settingsForm: $("settings-form"),
    settingsClose: $("settings-close"),
    learnerWaId: $("learner-wa-id"),
    learnerName: $("learner-name"),
    learnerDefault: $("learner-default"),
    knownLearners: $("known-learners"),
    settingsMeta: $("settings-meta"),
    learnerChip: $("learner-chip"),
    learnerInitial: $("learner-initial"),
    learnerLabel: $("learner-label"),
    reset: $("reset-view"),
    toast: $("toast"),
  };

  const state = {
    config: null,
    learner: null, // { wa_id, name }
    chat: null, // the current learner's local store (see loadChat)
    lastSeq: 0,
    items: [], // every outbox item seen, by seq
    seqs: new Set(),
    byId: new Map(), // tutor wamid -> outbox item
    readWamids: new Set(), // learner wamids the tutor marked as read
    reactions: new Map(), // message wamid -> emoji
    typingTimer: null,
    online: true,
    needResync: false,
    ackChain: Promise.resolve(),
    recorder: null,
  };

  // ---------------------------------------------------------------- small helpers

  function h(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "html") node.innerHTML = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "dataset") Object.assign(node.dataset, value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  function svg(markup, size = 16, viewBox = "0 0 16 16") {
    return `<svg viewBox="${viewBox}" width="${size}" height="${size}" aria-hidden="true">${markup}</svg>`;
  }

  const ICONS = {
    tick: svg('<polyline points="1.8,8.4 5,11.4 11.2,3.9" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>', 16, "0 0 16 15"),
    ticks: svg('<polyline points="1.2,8.4 4.4,11.4 10.6,3.9" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/><polyline points="7.2,10.6 8.2,11.4 14.6,3.9" fill="none" stroke="currentColor" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"/>', 16, "0 0 16 15"),
    clock: svg('<circle cx="8" cy="7.5" r="5.4" fill="none" stroke="currentColor" stroke-width="1.3"/><path d="M8 4.6v3.2l2 1.3" fill="none" stroke="currentColor" stroke-width="1.3" stroke-linecap="round"/>', 15, "0 0 16 15"),
    reply: svg('<path fill="currentColor" d="M10 9V5l-7 7 7 7v-4.1c5 0 8.5 1.6 11 5.1-1-5-4-10-11-11z"/>', 18, "0 0 24 24"),
    list: svg('<path fill="currentColor" d="M3 13h2v-2H3zm0 4h2v-2H3zm0-8h2V7H3zm4 4h14v-2H7zm0 4h14v-2H7zM7 7v2h14V7z"/>', 18, "0 0 24 24"),
    link: svg('<path fill="currentColor" d="M14 3v2h3.6l-9.8 9.8 1.4 1.4L19 6.4V10h2V3zm5 16H5V5h7V3H5a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h14a2 2 0 0 0 2-2v-7h-2z"/>', 17, "0 0 24 24"),
    play: svg('<path fill="currentColor" d="M8 5.1v13.8a.6.6 0 0 0 .9.5l10.6-6.9a.6.6 0 0 0 0-1L8.9 4.6a.6.6 0 0 0-.9.5z"/>', 30, "0 0 24 24"),
    pause: svg('<path fill="currentColor" d="M7 5h3.5v14H7zm6.5 0H17v14h-3.5z"/>', 30, "0 0 24 24"),
    mic: svg('<path fill="currentColor" d="M12 15a3.5 3.5 0 0 0 3.5-3.5v-6a3.5 3.5 0 0 0-7 0v6A3.5 3.5 0 0 0 12 15zm6.1-3.5h-1.8a4.3 4.3 0 0 1-8.6 0H5.9a6.1 6.1 0 0 0 5.2 6v3h1.8v-3a6.1 6.1 0 0 0 5.2-6z"/>', 16, "0 0 24 24"),
    headphones: svg('<path fill="currentColor" d="M12 3a9 9 0 0 0-9 9v7a2 2 0 0 0 2 2h2v-8H5v-1a7 7 0 0 1 14 0v1h-2v8h2a2 2 0 0 0 2-2v-7a9 9 0 0 0-9-9z"/>', 26, "0 0 24 24"),
    person: svg('<path fill="currentColor" d="M12 12a4.5 4.5 0 1 0 0-9 4.5 4.5 0 0 0 0 9zm0 2.2c-3 0-9 1.5-9 4.5V21h18v-2.3c0-3-6-4.5-9-4.5z"/>', 28, "0 0 24 24"),
    send: svg('<path fill="currentColor" d="M1.1 21.8 23 12 1.1 2.2 1 9.8l15.6 2.2L1 14.2z"/>', 24, "0 0 24 24"),
    template: svg('<path fill="currentColor" d="M6 2h9l5 5v13a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V4a2 2 0 0 1 2-2zm8 1.5V8h4.5zM7 12v1.6h10V12zm0 4v1.6h7V16z"/>', 13, "0 0 24 24"),
  };

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
  }

  function safeUrl(url) {
    try {
      const parsed = new URL(String(url), location.href);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch (_) {
      return null;
    }
  }

  function mediaUrl(id) {
    return `/dev/media/${encodeURIComponent(id)}`;
  }

  // The outbox's `at` is ISO 8601; a time without an offset is taken as UTC.
  function parseAt(at) {
    if (typeof at === "number") return at;
    if (!at) return Date.now();
    let text = String(at);
    if (/^\d{4}-\d\d-\d\dT[\d:.]+$/.test(text)) text += "Z";
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? Date.now() : ms;
  }

  function timeLabel(ts) {
    return new Date(ts).toLocaleTimeString("es-ES", { hour: "2-digit", minute: "2-digit" });
  }

  function dayKey(ts) {
    const d = new Date(ts);
    return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
  }

  function dayLabel(ts) {
    const today = new Date();
    const yesterday = new Date(Date.now() - 86400000);
    if (dayKey(ts) === dayKey(today.getTime())) return "Hoy";
    if (dayKey(ts) === dayKey(yesterday.getTime())) return "Ayer";
    return new Date(ts).toLocaleDateString("es-ES", { day: "numeric", month: "long", year: "numeric" });
  }

  let toastTimer = null;
  function toast(message, ms = 3500) {
    el.toast.textContent = message;
    el.toast.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(() => {
      el.toast.hidden = true;
    }, ms);
  }

  function readJson(key, fallback) {
    try {
      const raw = localStorage.getItem(LS + key);
      return raw ? JSON.parse(raw) : fallback;
    } catch (_) {
      return fallback;
    }
  }

  function writeJson(key, value) {
    try {
      localStorage.setItem(LS + key, JSON.stringify(value));
    } catch (_) {
      /* storage full or disabled: the view still works for this session */
    }
  }

  // ---------------------------------------------------------------- WhatsApp text formatting

  const PRE = "(^|[\\s(\\[{>\"'¡¿.,;:!?\\-])";
  const POST = "(?=$|[\\s)\\]}<\"'.,;:!?\\-])";

  function wrapMarker(text, marker, tag) {
    const m = marker === "*" ? "\\*" : marker;
    const re = new RegExp(`${PRE}${m}([^\\s${m}](?:[^${m}\\n]*?[^\\s${m}])?)${m}${POST}`, "g");
    // The delimiter before a span is captured (JS has no portable lookbehind in older engines) and the one
    // after is only looked at, so adjacent spans ("*a* *b*") both match.
    return text.replace(re, (_, pre, inner) => `${pre}<${tag}>${inner}</${tag}>`);
  }

  function formatInline(source) {
    const slots = [];
    const keep = (html) => `\u0001${slots.push(html) - 1}\u0002`;
    let text = source
      .replace(/[\u0001\u0002]/g, "")
      .replace(/`([^`\n]+)`/g, (_, code) => keep(`<code class="inline">${escapeHtml(code)}</code>`))
      .replace(/\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]]/g, (url) => {
        const href = safeUrl(url);
        return href
          ? keep(`<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${escapeHtml(url)}</a>`)
          : url;
      });
    text = escapeHtml(text);
    text = wrapMarker(text, "*", "strong");
    text = wrapMarker(text, "_", "em");
    text = wrapMarker(text, "~", "s");
    text = text.replace(/\n/g, "<br>");
    return text.replace(/\u0001(\d+)\u0002/g, (_, i) => slots[Number(i)]);
  }

  // *bold*, _italic_, ~strike~, ```mono```, `code`, links and line breaks; everything else is escaped.
  function formatWhatsApp(source) {
    const parts = String(source ?? "").split(/```([\s\S]*?)```/);
    return parts
      .map((part, i) => (i % 2 === 1 ? `<code class="mono">${escapeHtml(part)}</code>` : formatInline(part)))
      .join("");
  }

  // ---------------------------------------------------------------- the learner and their local store

  function loadLearner() {
    const stored = readJson("learner", null);
    if (stored && /^\d{6,20}$/.test(stored.wa_id || "")) return { wa_id: stored.wa_id, name: stored.name || stored.wa_id };
    const fromConfig = state.config && state.config.default_learner;
    return fromConfig && fromConfig.wa_id ? { wa_id: String(fromConfig.wa_id), name: fromConfig.name || "" } : { ...FALLBACK_LEARNER };
  }

  function loadChat(waId) {
    const raw = readJson(`chat.${waId}`, {});
    const chat = {
      waId,
      sent: Array.isArray(raw.sent) ? raw.sent : [],
      clearedAt: Number(raw.clearedAt) || 0,
      acked: new Set(Array.isArray(raw.acked) ? raw.acked : []),
    };
    // A POST that was in flight when the page went away never got its answer.
    for (const msg of chat.sent) {
      if (msg.state === "pending") {
        msg.state = "failed";
        msg.error = "La página se cerró antes de que el simulador respondiera";
      }
    }
    return chat;
  }

  function saveChat(chat) {
    writeJson(`chat.${chat.waId}`, {
      sent: chat.sent.map(({ localUrl, ...rest }) => rest),
      clearedAt: chat.clearedAt,
      acked: [...chat.acked].slice(-1000),
    });
  }

  function rememberLearner(learner) {
    writeJson("learner", learner);
    const known = readJson("learners", []).filter((l) => l && l.wa_id !== learner.wa_id);
    known.unshift(learner);
    writeJson("learners", known.slice(0, 12));
  }

  function setLearner(learner, { persist = true } = {}) {
    state.learner = learner;
    if (persist) rememberLearner(learner);
    state.chat = loadChat(learner.wa_id);
    el.learnerInitial.textContent = (learner.name || learner.wa_id).trim().charAt(0).toUpperCase() || "?";
    el.learnerLabel.textContent = learner.name || learner.wa_id;
    el.learnerChip.title = `Alumno: ${learner.name} (+${learner.wa_id}). Toca para cambiar.`;
    stopTyping();
    renderAll();
  }

  // ---------------------------------------------------------------- message model -> preview text

  function tutorPreview(body) {
    if (!body) return "Mensaje";
    switch (body.type) {
      case "text":
        return (body.text && body.text.body) || "";
      case "interactive":
        return (body.interactive && body.interactive.body && body.interactive.body.text) || "Mensaje interactivo";
      case "image":
        return (body.image && body.image.caption) || "📷 Foto";
      case "audio":
        return "🎤 Nota de voz";
      case "video":
        return (body.video && body.video.caption) || "🎥 Vídeo";
      case "document":
        return `📄 ${(body.document && (body.document.filename || body.document.caption)) || "Documento"}`;
      case "sticker":
        return "Sticker";
      case "template":
        return `📄 ${(body.template && body.template.name) || "Plantilla"}`;
      case "location":
        return `📍 ${(body.location && (body.location.name || body.location.address)) || "Ubicación"}`;
      default:
        return `Mensaje (${body.type || "?"})`;
    }
  }

  function learnerPreview(msg) {
    switch (msg.type) {
      case "text":
        return msg.text || "";
      case "button_reply":
      case "list_reply":
        return msg.title || "";
      case "audio":
        return msg.voice === false ? "🎵 Audio" : "🎤 Nota de voz";
      default:
        return "Mensaje";
    }
  }

  function lookupMessage(wamid) {
    const item = state.byId.get(wamid);
    if (item) return { fromMe: false, text: tutorPreview(item.body) };
    const chats = [state.chat];
    for (const chat of chats) {
      const msg = chat && chat.sent.find((m) => m.wamid === wamid);
      if (msg) return { fromMe: true, text: learnerPreview(msg) };
    }
    return null;
  }

  // ---------------------------------------------------------------- bubbles

  function quoteBlock(wamid) {
    const found = lookupMessage(wamid);
    const author = found ? (found.fromMe ? "Tú" : businessName()) : "Mensaje";
    const text = found ? found.text : "Mensaje no disponible en esta vista";
    return h(
      "div",
      {
        class: `quote${found && found.fromMe ? " from-me" : ""}`,
        "data-testid": "quote",
        "data-quoted": wamid,
        role: "button",
        tabindex: "0",
        title: "Ir al mensaje citado",
        onclick: () => jumpTo(wamid),
      },
      h("span", { class: "quote-author", text: author }),
      h("span", { class: "quote-text", html: formatWhatsApp(text) })
    );
  }

  function jumpTo(wamid) {
    const target = el.messages.querySelector(`[data-wamid="${CSS.escape(wamid)}"]`);
    if (!target) return;
    const row = target.closest(".msg-row");
    row.scrollIntoView({ block: "center", behavior: "smooth" });
    row.classList.remove("flash");
    void row.offsetWidth;
    row.classList.add("flash");
  }

  function metaBlock(ts, msg) {
    const meta = h("span", { class: "meta" }, h("time", { datetime: new Date(ts).toISOString(), text: timeLabel(ts) }));
    if (msg) meta.append(ticksElement(msg));
    return meta;
  }

  function displayState(msg) {
    if (msg.state === "failed") return "failed";
    if (msg.state === "sent" && msg.read) return "read";
    return msg.state === "sent" ? "sent" : "pending";
  }

  function ticksElement(msg) {
    const node = h("span", { class: "ticks", "data-testid": "ticks" });
    paintTicks(node, msg);
    return node;
  }

  function paintTicks(node, msg) {
    const s = displayState(msg);
    node.dataset.state = s;
    node.onclick = null;
    if (s === "failed") {
      const why = msg.error || "El webhook no aceptó el mensaje";
      node.textContent = "!";
      node.title = why;
      node.setAttribute("role", "img");
      node.setAttribute("aria-label", `No entregado: ${why}`);
      node.onclick = () => toast(`No entregado: ${why}`);
    } else {
      node.innerHTML = s === "pending" ? ICONS.clock : s === "read" ? ICONS.ticks : ICONS.tick;
      node.title = s === "pending" ? "Enviando…" : s === "read" ? "Leído" : "Enviado";
      node.setAttribute("aria-label", node.title);
    }
  }

  function textBody(html) {
    return h("div", { class: "bubble-text", "data-testid": "bubble-text", dir: "auto", html });
  }

  function spacer() {
    return h("span", { class: "meta-spacer", "aria-hidden": "true" });
  }

  function voicePlayer(src, direction, { onFirstPlay } = {}) {
    const audio = h("audio", { preload: "metadata", src, "data-testid": "audio" });
    const play = h("button", { type: "button", class: "voice-play", "aria-label": "Reproducir", html: ICONS.play });
    const range = h("input", { type: "range", class: "voice-range", min: "0", max: "1000", value: "0", "aria-label": "Posición" });
    const time = h("span", { class: "voice-time", text: "0:00" });
    const avatar = h(
      "span",
      { class: "voice-avatar", "aria-hidden": "true", html: direction === "in" ? ICONS.headphones : ICONS.person },
      h("span", { class: "mic-badge", html: ICONS.mic })
    );
    const box = h("div", { class: "voice", "data-testid": "audio-player" });
    if (direction === "in") box.append(avatar, play, h("div", { class: "voice-track" }, range, time));
    else box.append(play, h("div", { class: "voice-track" }, range, time), avatar);
    box.append(audio);

    const fmt = (s) => (Number.isFinite(s) ? `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, "0")}` : "0:00");
    let started = false;
    let seekingForDuration = false;
    audio.addEventListener("loadedmetadata", () => {
      if (audio.duration === Infinity) {
        // Recorded WebM has no duration until it is read through once; seek far to learn it.
        seekingForDuration = true;
        audio.currentTime = 1e7;
      } else time.textContent = fmt(audio.duration);
    });
    audio.addEventListener("durationchange", () => {
      if (seekingForDuration && Number.isFinite(audio.duration)) {
        seekingForDuration = false;
        audio.currentTime = 0;
        time.textContent = fmt(audio.duration);
      }
    });
    audio.addEventListener("timeupdate", () => {
      if (seekingForDuration) return;
      const d = audio.duration;
      if (Number.isFinite(d) && d > 0) {
        range.value = String(Math.round((audio.currentTime / d) * 1000));
        range.style.setProperty("--p", `${(audio.currentTime / d) * 100}%`);
      }
      time.textContent = fmt(audio.currentTime || d);
    });
    audio.addEventListener("play", () => {
      play.innerHTML = ICONS.pause;
      play.setAttribute("aria-label", "Pausa");
      if (!started) {
        started = true;
        box.classList.add("played");
        if (onFirstPlay) onFirstPlay();
      }
    });
    audio.addEventListener("pause", () => {
      play.innerHTML = ICONS.play;
      play.setAttribute("aria-label", "Reproducir");
    });
    audio.addEventListener("ended", () => {
      range.value = "0";
      range.style.setProperty("--p", "0%");
      time.textContent = fmt(audio.duration);
    });
    audio.addEventListener("error", () => {
      time.textContent = "Audio no disponible";
    });
    play.addEventListener("click", () => {
      if (audio.paused) {
        for (const other of el.messages.querySelectorAll("audio")) if (other !== audio) other.pause();
        audio.play().catch(() => toast("No se pudo reproducir el audio"));
      } else audio.pause();
    });
    range.addEventListener("input", () => {
      const d = audio.duration;
      range.style.setProperty("--p", `${Number(range.value) / 10}%`);
      if (Number.isFinite(d) && d > 0) audio.currentTime = (Number(range.value) / 1000) * d;
    });
    return box;
  }

  function imageElement(image) {
    const src = image.id ? mediaUrl(image.id) : safeUrl(image.link);
    const img = h("img", { class: "bubble-image", alt: image.caption || "Imagen", loading: "lazy", "data-testid": "image" });
    if (src) {
      img.src = src;
      img.addEventListener("click", () => window.open(src, "_blank", "noopener"));
    }
    img.addEventListener("error", () => {
      img.classList.add("broken");
      img.alt = `Imagen no disponible${image.link ? ` (${image.link})` : ""}`;
    });
    img.addEventListener("load", () => keepBottom());
    return img;
  }

  function templateContent(template) {
    const parts = [];
    const lang = template.language && template.language.code;
    parts.push(
      h("div", { class: "template-tag", "data-testid": "template", html: `${ICONS.template} Plantilla` }),
      textBody(`<strong>${escapeHtml(template.name || "(sin nombre)")}</strong>${lang ? ` <span class="muted">· ${escapeHtml(lang)}</span>` : ""}`)
    );
    const paramText = (p) => {
      if (!p || typeof p !== "object") return String(p);
      switch (p.type) {
        case "text":
          return p.text;
        case "currency":
          return (p.currency && (p.currency.fallback_value || `${p.currency.amount_1000 / 1000} ${p.currency.code}`)) || "moneda";
        case "date_time":
          return (p.date_time && p.date_time.fallback_value) || "fecha";
        case "payload":
          return `payload: ${p.payload}`;
        default:
          return `[${p.type}]`;
      }
    };
    const list = h("ul", { class: "template-params", "data-testid": "template-params" });
    const buttons = [];
    for (const comp of template.components || []) {
      const params = (comp.parameters || []).map(paramText);
      const kind = String(comp.type || "").toLowerCase();
      if (kind === "button") {
        buttons.push(`${comp.sub_type || "botón"}${params.length ? `: ${params.join(", ")}` : ""}`);
      } else if (params.length) {
        const label = kind === "body" ? "" : `${kind}: `;
        params.forEach((p, i) => list.append(h("li", { text: `${label}{{${i + 1}}} = ${p}` })));
      }
    }
    if (list.childElementCount) parts.push(list);
    if (buttons.length) parts.push(h("div", { class: "template-buttons", text: `Botones: ${buttons.join(" · ")}` }));
    return parts;
  }

  function tutorRow(item) {
    const body = item.body || {};
    const ts = parseAt(item.at);
    const bubble = h("div", {
      class: "bubble in",
      "data-testid": "bubble",
      "data-direction": "in",
      "data-wamid": item.id || "",
      "data-type": body.type || item.type || "",
      "data-seq": item.seq,
    });
    const row = h("div", { class: "msg-row in", dataset: { ts: String(ts), dir: "in" } }, bubble);
    if (body.context && body.context.message_id) bubble.append(quoteBlock(body.context.message_id));

    let metaOnMedia = false;
    switch (body.type) {
      case "text": {
        bubble.append(textBody(formatWhatsApp((body.text && body.text.body) || "")));
        break;
      }
      case "interactive": {
        const ia = body.interactive || {};
        const header = ia.header || null;
        if (header) {
          if (header.type === "text" && header.text) bubble.append(h("div", { class: "bubble-header", html: formatWhatsApp(header.text) }));
          else if (header.type === "image" && header.image) bubble.append(imageElement(header.image));
        }
        bubble.append(textBody(formatWhatsApp((ia.body && ia.body.text) || "")));
        if (ia.footer && ia.footer.text) bubble.append(h("div", { class: "bubble-footer", html: formatWhatsApp(ia.footer.text) }));
        const action = ia.action || {};
        if (ia.type === "button") {
          const buttons = (action.buttons || []).slice(0, 3).map((b) => (b && b.reply) || b || {});
          if (buttons.length) {
            const box = h("div", { class: "reply-buttons", "data-testid": "reply-buttons" });
            for (const reply of buttons) {
              box.append(
                h(
                  "button",
                  {
                    type: "button",
                    class: "reply-btn",
                    "data-testid": "reply-button",
                    "data-id": reply.id || "",
                    onclick: (ev) => {
                      ev.currentTarget.classList.add("chosen");
                      sendLearner({ type: "button_reply", id: reply.id, title: reply.title, context_id: item.id });
                    },
                  },
                  h("span", { html: ICONS.reply }),
                  h("span", { text: reply.title || reply.id || "Responder" })
                )
              );
            }
            row.append(box);
          }
        } else if (ia.type === "list") {
          bubble.classList.add("has-action");
          bubble.append(
            metaBlock(ts),
            h(
              "button",
              {
                type: "button",
                class: "bubble-action",
                "data-testid": "list-open",
                onclick: () => openList(item),
              },
              h("span", { html: ICONS.list }),
              h("span", { text: action.button || "Ver opciones" })
            )
          );
          return row;
        } else if (ia.type === "cta_url") {
          const params = action.parameters || {};
          const href = safeUrl(params.url);
          bubble.classList.add("has-action");
          bubble.append(
            metaBlock(ts),
            h(
              href ? "a" : "span",
              {
                class: "bubble-action",
                "data-testid": "cta-button",
                href,
                target: href ? "_blank" : null,
                rel: href ? "noopener noreferrer" : null,
                title: params.url || "",
              },
              h("span", { html: ICONS.link }),
              h("span", { text: params.display_text || params.url || "Abrir" })
            )
          );
          return row;
        } else if (ia.type) {
          bubble.append(h("div", { class: "muted", text: `(interactivo «${ia.type}»)` }));
        }
        break;
      }
      case "image": {
        const image = body.image || {};
        bubble.classList.add("media");
        bubble.append(imageElement(image));
        if (image.caption) bubble.append(textBody(formatWhatsApp(image.caption)));
        else metaOnMedia = true;
        break;
      }
      case "sticker": {
        const sticker = body.sticker || {};
        bubble.classList.add("media");
        bubble.append(imageElement({ id: sticker.id, link: sticker.link, caption: "Sticker" }));
        metaOnMedia = true;
        break;
      }
      case "audio": {
        const audio = body.audio || {};
        const src = audio.id ? mediaUrl(audio.id) : safeUrl(audio.link);
        bubble.append(voicePlayer(src || "", "in", { onFirstPlay: () => item.id && postStatus(item.id, "played", item.to).catch(() => {}) }));
        break;
      }
      case "video": {
        const video = body.video || {};
        const src = video.id ? mediaUrl(video.id) : safeUrl(video.link);
        bubble.classList.add("media");
        bubble.append(h("video", { class: "bubble-image", controls: true, preload: "metadata", src: src || null }));
        if (video.caption) bubble.append(textBody(formatWhatsApp(video.caption)));
        break;
      }
      case "document": {
        const doc = body.document || {};
        const href = doc.id ? mediaUrl(doc.id) : safeUrl(doc.link);
        bubble.append(
          textBody(`📄 <a href="${escapeHtml(href || "#")}" target="_blank" rel="noopener noreferrer">${escapeHtml(doc.filename || "Documento")}</a>`)
        );
        if (doc.caption) bubble.append(h("div", { class: "bubble-footer", html: formatWhatsApp(doc.caption) }));
        break;
      }
      case "location": {
        const loc = body.location || {};
        bubble.append(
          textBody(
            `📍 <strong>${escapeHtml(loc.name || "Ubicación")}</strong>${loc.address ? `<br>${escapeHtml(loc.address)}` : ""}<br><span class="muted">${escapeHtml(`${loc.latitude}, ${loc.longitude}`)}</span>`
          )
        );
        break;
      }
      case "template": {
        bubble.append(...templateContent(body.template || {}));
        break;
      }
      default: {
        bubble.append(
          textBody(`<span class="muted">Mensaje de tipo «${escapeHtml(body.type || item.type || "?")}» sin vista previa</span>`),
          h("div", { class: "raw", text: JSON.stringify(body, null, 1).slice(0, 800) })
        );
      }
    }
    bubble.append(spacer());
    const meta = metaBlock(ts);
    if (metaOnMedia) meta.classList.add("on-media");
    bubble.append(meta);
    return row;
  }

  function learnerRow(msg) {
    const bubble = h("div", {
      class: "bubble out",
      "data-testid": "bubble",
      "data-direction": "out",
      "data-wamid": msg.wamid || "",
      "data-local-id": msg.localId,
      "data-type": msg.type,
    });
    const row = h("div", { class: "msg-row out", dataset: { ts: String(msg.at), dir: "out" } }, bubble);
    if (msg.context_id) bubble.append(quoteBlock(msg.context_id));
    switch (msg.type) {
      case "text":
        bubble.append(textBody(formatWhatsApp(msg.text)));
        break;
      case "button_reply":
        bubble.append(textBody(escapeHtml(msg.title || "")));
        break;
      case "list_reply":
        bubble.append(textBody(`${escapeHtml(msg.title || "")}${msg.description ? `<br><span class="muted">${escapeHtml(msg.description)}</span>` : ""}`));
        break;
      case "audio": {
        const src = msg.localUrl || (msg.media_id ? mediaUrl(msg.media_id) : "");
        bubble.append(voicePlayer(src, "out"));
        break;
      }
      default:
        bubble.append(textBody(escapeHtml(learnerPreview(msg))));
    }
    bubble.append(spacer(), metaBlock(msg.at, msg));
    return row;
  }

  // ---------------------------------------------------------------- the chat view

  function nearBottom() {
    const c = el.chat;
    return c.scrollHeight - c.scrollTop - c.clientHeight < 140;
  }

  function scrollToBottom() {
    requestAnimationFrame(() => {
      el.chat.scrollTop = el.chat.scrollHeight;
    });
  }

  let stickToBottom = true;
  el.chat.addEventListener("scroll", () => {
    stickToBottom = nearBottom();
  });

  function keepBottom() {
    if (stickToBottom) scrollToBottom();
  }

  // Images and players change the chat's height after they are inserted; stay at the bottom if we were.
  if (window.ResizeObserver) new ResizeObserver(keepBottom).observe(el.messages);

  function insertRow(row) {
    const ts = Number(row.dataset.ts);
    const rows = el.messages.querySelectorAll(".msg-row");
    let before = null;
    for (let i = rows.length - 1; i >= 0; i--) {
      if (Number(rows[i].dataset.ts) <= ts) break;
      before = rows[i];
    }
    el.messages.insertBefore(row, before);
    const bubble = row.querySelector(".bubble");
    if (bubble && bubble.dataset.wamid) paintReaction(bubble);
  }

  function regroup() {
    for (const chip of el.messages.querySelectorAll(".date-chip")) chip.remove();
    let prevDir = null;
    let prevDay = null;
    for (const row of el.messages.querySelectorAll(".msg-row")) {
      const ts = Number(row.dataset.ts);
      const day = dayKey(ts);
      if (day !== prevDay) {
        row.before(h("div", { class: "date-chip", text: dayLabel(ts) }));
        prevDay = day;
        prevDir = null;
      }
      row.classList.toggle("group-start", row.dataset.dir !== prevDir);
      prevDir = row.dataset.dir;
    }
  }

  function visibleTutorItem(item) {
    return (
      item.kind === "message" &&
      state.learner &&
      item.to === state.learner.wa_id &&
      (item.body || {}).type !== "reaction" &&
      parseAt(item.at) > state.chat.clearedAt
    );
  }

  function renderAll() {
    for (const node of [...el.messages.children]) if (node !== el.intro) node.remove();
    if (!state.learner) return;
    for (const msg of state.chat.sent) insertRow(learnerRow(msg));
    for (const item of state.items) if (visibleTutorItem(item)) insertRow(tutorRow(item));
    regroup();
    applyReads();
    stickToBottom = true;
    scrollToBottom();
    for (const item of state.items) if (visibleTutorItem(item)) acknowledge(item);
  }

  function paintReaction(bubble) {
    const emoji = state.reactions.get(bubble.dataset.wamid);
    const old = bubble.querySelector(".reaction");
    if (old) old.remove();
    const row = bubble.closest(".msg-row");
    if (row) row.classList.toggle("has-reaction", Boolean(emoji));
    if (emoji) bubble.append(h("span", { class: "reaction", "data-testid": "reaction", title: `${businessName()} reaccionó`, text: emoji }));
  }

  function updateLearnerBubble(msg) {
    const bubble = el.messages.querySelector(`[data-local-id="${CSS.escape(msg.localId)}"]`);
    if (!bubble) return;
    if (msg.wamid && bubble.dataset.wamid !== msg.wamid) {
      bubble.dataset.wamid = msg.wamid;
      paintReaction(bubble);
    }
    const ticks = bubble.querySelector('[data-testid="ticks"]');
    if (ticks) paintTicks(ticks, msg);
  }

  // Reading a message marks it and every earlier one as read (as WhatsApp does).
  function applyReads() {
    const chat = state.chat;
    if (!chat) return;
    let latest = -Infinity;
    for (const msg of chat.sent) {
      if (msg.wamid && msg.state === "sent" && (msg.read || state.readWamids.has(msg.wamid))) latest = Math.max(latest, msg.at);
    }
    let changed = false;
    for (const msg of chat.sent) {
      if (msg.wamid && msg.state === "sent" && !msg.read && msg.at <= latest) {
        msg.read = true;
        changed = true;
        updateLearnerBubble(msg);
      }
    }
    if (changed) saveChat(chat);
  }

  // ---------------------------------------------------------------- header status / typing

  function businessName() {
    return (state.config && state.config.business_name) || "Espaluz";
  }

  function startTyping(ms) {
    clearTimeout(state.typingTimer);
    el.headerStatus.textContent = "escribiendo…";
    el.headerStatus.classList.add("typing");
    el.headerStatus.dataset.state = "typing";
    state.typingTimer = setTimeout(stopTyping, ms);
  }

  function stopTyping() {
    clearTimeout(state.typingTimer);
    state.typingTimer = null;
    el.headerStatus.textContent = "en línea";
    el.headerStatus.classList.remove("typing");
    el.headerStatus.dataset.state = "online";
  }

  function setOnline(online) {
    if (online === state.online) return;
    state.online = online;
    el.banner.hidden = online;
    if (!online) {
      el.banner.textContent = "Sin conexión con el servidor local. Reintentando…";
      el.headerStatus.textContent = "conectando…";
      el.headerStatus.dataset.state = "offline";
    } else stopTyping();
  }

  // ---------------------------------------------------------------- outbox

  function ownsLearnerWamid(wamid) {
    return Boolean(state.chat && state.chat.sent.some((m) => m.wamid === wamid));
  }

  // Take one outbox item into the model; with live=true also update the page.
  function ingest(item, live) {
    if (!item || typeof item.seq !== "number" || state.seqs.has(item.seq)) return;
    state.seqs.add(item.seq);
    state.items.push(item);
    if (item.seq > state.lastSeq) state.lastSeq = item.seq;
    const body = item.body || {};

    if (item.kind === "read") {
      const wamid = body.message_id;
      if (!wamid) return;
      state.readWamids.add(wamid);
      const mine = (state.learner && item.to === state.learner.wa_id) || ownsLearnerWamid(wamid);
      if (mine && body.typing_indicator) {
        const remaining = Math.min(TYPING_MS, TYPING_MS - Math.max(0, Date.now() - parseAt(item.at)));
        if (remaining > 0) startTyping(remaining);
      }
      if (live && mine) applyReads();
      return;
    }
    if (item.kind !== "message") return;
    if (item.id) state.byId.set(item.id, item);

    if (body.type === "reaction") {
      const reaction = body.reaction || {};
      if (!reaction.message_id) return;
      if (reaction.emoji) state.reactions.set(reaction.message_id, reaction.emoji);
      else state.reactions.delete(reaction.message_id);
      if (live) {
        const bubble = el.messages.querySelector(`[data-wamid="${CSS.escape(reaction.message_id)}"]`);
        if (bubble) paintReaction(bubble);
      }
      return;
    }
    if (!visibleTutorItem(item)) return;
    stopTyping();
    if (!live) return;
    const wasNear = nearBottom();
    insertRow(tutorRow(item));
    regroup();
    if (wasNear || stickToBottom) scrollToBottom();
    acknowledge(item);
  }

  async function fetchOutbox(after) {
    const url = after ? `/dev/outbox?after=${encodeURIComponent(after)}` : "/dev/outbox";
    const res = await fetch(url, { cache: "no-store" });
    if (!res.ok) throw new Error(`outbox HTTP ${res.status}`);
    const list = await res.json();
    if (!Array.isArray(list)) throw new Error("outbox: not a list");
    return list.slice().sort((a, b) => a.seq - b.seq);
  }

  function resetModel() {
    state.items = [];
    state.seqs = new Set();
    state.byId = new Map();
    state.readWamids = new Set();
    state.reactions = new Map();
    state.lastSeq = 0;
  }

  async function poll() {
    try {
      if (state.needResync) {
        // After an outage the server may have restarted with an empty outbox: start over from it.
        const list = await fetchOutbox(0);
        const known = list.find((i) => state.seqs.has(i.seq));
        const maxSeq = list.length ? list[list.length - 1].seq : 0;
        if (maxSeq < state.lastSeq || (known && !state.items.some((i) => i.seq === known.seq && i.at === known.at))) {
          resetModel();
          for (const item of list) ingest(item, false);
          renderAll();
        } else {
          for (const item of list) ingest(item, true);
        }
        state.needResync = false;
      } else {
        for (const item of await fetchOutbox(state.lastSeq)) ingest(item, true);
      }
      setOnline(true);
      if (!state.config) {
        state.config = await loadConfig();
        applyConfig();
      }
    } catch (_) {
      state.needResync = true;
      setOnline(false);
    } finally {
      setTimeout(poll, POLL_MS);
    }
  }

  // ---------------------------------------------------------------- statuses (the phone's side)

  async function postStatus(wamid, status, waId = state.learner.wa_id) {
    const res = await fetch("/dev/simulator/statuses", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ wa_id: waId, wamid, status }),
    });
    if (!res.ok) throw new Error(`statuses HTTP ${res.status}`);
    return res.json().catch(() => ({}));
  }

  function whenVisible() {
    if (document.visibilityState !== "hidden") return Promise.resolve();
    return new Promise((resolve) => {
      const onChange = () => {
        if (document.visibilityState !== "hidden") {
          document.removeEventListener("visibilitychange", onChange);
          resolve();
        }
      };
      document.addEventListener("visibilitychange", onChange);
    });
  }

  // A phone that shows a message reports it delivered, then read (read waits until the page is visible).
  function acknowledge(item) {
    const chat = state.chat;
    if (!item.id || !chat || chat.acked.has(item.id)) return;
    chat.acked.add(item.id);
    saveChat(chat);
    state.ackChain = state.ackChain
      .then(async () => {
        await postStatus(item.id, "delivered", chat.waId);
        await whenVisible();
        await postStatus(item.id, "read", chat.waId);
      })
      .catch(() => {
        chat.acked.delete(item.id);
        saveChat(chat);
      });
  }

  // ---------------------------------------------------------------- sending

  let localCounter = 0;
  function newLocalId() {
    localCounter += 1;
    return `local-${Date.now().toString(36)}-${localCounter}-${Math.random().toString(36).slice(2, 7)}`;
  }

  // msg: what the bubble shows ({type, text | id,title,description,context_id | media_id,voice}).
  // prepare: optional async step before posting (the audio upload) that may add fields to msg.
  async function sendLearner(fields, prepare) {
    const chat = state.chat;
    const learner = state.learner;
    const msg = { localId: newLocalId(), at: Date.now(), state: "pending", ...fields };
    if (state.chat.sent.length && msg.at <= state.chat.sent[state.chat.sent.length - 1].at) {
      msg.at = state.chat.sent[state.chat.sent.length - 1].at + 1;
    }
    chat.sent.push(msg);
    saveChat(chat);
    insertRow(learnerRow(msg));
    regroup();
    stickToBottom = true;
    scrollToBottom();

    try {
      if (prepare) await prepare(msg);
      const payload = { wa_id: learner.wa_id, name: learner.name, type: msg.type };
      for (const key of ["text", "id", "title", "description", "context_id", "media_id", "mime_type", "voice"]) {
        if (msg[key] !== undefined && msg[key] !== null && msg[key] !== "") payload[key] = msg[key];
      }
      const res = await fetch("/dev/simulator/messages", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      const data = await res.json().catch(() => ({}));
      if (!res.ok) {
        msg.state = "failed";
        msg.error = `El simulador rechazó el mensaje (HTTP ${res.status})${data.error ? `: ${data.error}` : ""}`;
      } else {
        msg.wamid = data.wamid || null;
        msg.webhookStatus = data.webhook_status;
        if (data.webhook_status === 200) {
          msg.state = "sent";
          if (chat === state.chat) catchUpTyping(msg.wamid);
        } else {
          msg.state = "failed";
          msg.error = `El webhook respondió ${data.webhook_status ?? "sin estado"}; el tutor no recibió el mensaje`;
        }
      }
    } catch (err) {
      msg.state = "failed";
      msg.error = (err && err.userMessage) || "Sin conexión con el simulador local";
    }
    saveChat(chat);
    if (chat === state.chat) {
      updateLearnerBubble(msg);
      applyReads();
    }
  }

  // The tutor's typing indicator can reach the outbox before our POST has its answer (and the wamid).
  function catchUpTyping(wamid) {
    for (let i = state.items.length - 1; i >= 0; i--) {
      const item = state.items[i];
      if (item.kind === "message" && item.to === state.chat.waId) return; // the tutor already answered
      if (item.kind === "read" && item.body && item.body.message_id === wamid) {
        if (!item.body.typing_indicator) return;
        const remaining = TYPING_MS - Math.max(0, Date.now() - parseAt(item.at));
        if (remaining > 0) startTyping(remaining);
        return;
      }
    }
  }

  function sendText() {
    const text = el.composer.value.replace(/\s+$/, "");
    if (!text.trim()) return;
    el.composer.value = "";
    syncComposer();
    sendLearner({ type: "text", text });
    el.composer.focus();
  }

  function syncComposer() {
    const hasText = el.composer.value.trim().length > 0;
    el.send.hidden = !hasText && !state.recorder;
    el.mic.hidden = hasText || Boolean(state.recorder);
    el.composer.style.height = "auto";
    el.composer.style.height = `${Math.min(el.composer.scrollHeight, 120)}px`;
  }

  // Returns { media_id, mime_type } from the simulator's media endpoint.
  async function uploadAudio(blob, filename) {
    const form = new FormData();
    form.append("file", blob, filename);
    const res = await fetch("/dev/simulator/media", { method: "POST", body: form });
    const data = await res.json().catch(() => ({}));
    if (!res.ok || !data.media_id) {
      const err = new Error("upload failed");
      err.userMessage = `No se pudo subir el audio (HTTP ${res.status})${data.error ? `: ${data.error}` : ""}`;
      throw err;
    }
    return data;
  }

  function sendAudio(blob, filename, voice) {
    const localUrl = URL.createObjectURL(blob);
    sendLearner({ type: "audio", voice, localUrl }, async (msg) => {
      const uploaded = await uploadAudio(blob, filename);
      msg.media_id = uploaded.media_id;
      if (uploaded.mime_type) msg.mime_type = uploaded.mime_type;
    });
  }

  // ---------------------------------------------------------------- voice recording

  const RECORD_TYPES = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm", "audio/mp4"];

  function extensionFor(mime) {
    if (mime.includes("ogg")) return "ogg";
    if (mime.includes("webm")) return "webm";
    if (mime.includes("mp4")) return "m4a";
    return "bin";
  }

  async function startRecording() {
    if (!window.MediaRecorder || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      toast("Este navegador no puede grabar aquí; usa el clip para elegir un archivo de audio.");
      return;
    }
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch (_) {
      toast("Sin acceso al micrófono; usa el clip para elegir un archivo de audio.");
      return;
    }
    const mimeType = RECORD_TYPES.find((t) => MediaRecorder.isTypeSupported(t));
    const recorder = new MediaRecorder(stream, mimeType ? { mimeType } : undefined);
    const chunks = [];
    const started = Date.now();
    recorder.addEventListener("dataavailable", (e) => {
      if (e.data && e.data.size) chunks.push(e.data);
    });
    recorder.addEventListener("stop", () => {
      for (const track of stream.getTracks()) track.stop();
      clearInterval(timer);
      const cancelled = recorder.cancelled;
      state.recorder = null;
      el.recording.hidden = true;
      el.pill.hidden = false;
      syncComposer();
      if (cancelled || !chunks.length) return;
      const type = recorder.mimeType || mimeType || "audio/webm";
      const blob = new Blob(chunks, { type });
      sendAudio(blob, `nota-de-voz.${extensionFor(type)}`, true);
    });
    const timer = setInterval(() => {
      const s = Math.floor((Date.now() - started) / 1000);
      el.recTime.textContent = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
    }, 250);
    state.recorder = recorder;
    el.recTime.textContent = "0:00";
    el.pill.hidden = true;
    el.recording.hidden = false;
    syncComposer();
    recorder.start(250);
  }

  function stopRecording(cancel) {
    const recorder = state.recorder;
    if (!recorder) return;
    recorder.cancelled = Boolean(cancel);
    if (recorder.state !== "inactive") recorder.stop();
  }

  // ---------------------------------------------------------------- list bottom sheet

  let sheetReturnFocus = null;

  function openList(item) {
    const ia = (item.body && item.body.interactive) || {};
    const action = ia.action || {};
    el.sheetTitle.textContent = action.button || "Ver opciones";
    el.sheetBody.replaceChildren();
    for (const section of action.sections || []) {
      if (section.title) el.sheetBody.append(h("h3", { class: "sheet-section-title", text: section.title }));
      for (const row of section.rows || []) {
        el.sheetBody.append(
          h(
            "button",
            {
              type: "button",
              class: "list-row",
              "data-testid": "list-row",
              "data-id": row.id || "",
              onclick: () => {
                closeSheets();
                sendLearner({ type: "list_reply", id: row.id, title: row.title, description: row.description || undefined, context_id: item.id });
              },
            },
            h(
              "span",
              { class: "list-row-text" },
              h("span", { class: "list-row-title", text: row.title || row.id }),
              row.description ? h("span", { class: "list-row-desc", text: row.description }) : null
            ),
            h("span", { class: "radio", "aria-hidden": "true" })
          )
        );
      }
    }
    sheetReturnFocus = document.activeElement;
    el.sheetBackdrop.hidden = false;
    const first = el.sheetBody.querySelector(".list-row");
    if (first) first.focus({ preventScroll: true });
  }

  function closeSheets() {
    el.sheetBackdrop.hidden = true;
    el.settingsBackdrop.hidden = true;
    if (sheetReturnFocus && sheetReturnFocus.focus) sheetReturnFocus.focus({ preventScroll: true });
    sheetReturnFocus = null;
  }

  // ---------------------------------------------------------------- learner settings

  function openSettings() {
    el.learnerWaId.value = state.learner.wa_id;
    el.learnerName.value = state.learner.name;
    el.knownLearners.replaceChildren();
    for (const learner of readJson("learners", [])) {
      if (!learner || !learner.wa_id) continue;
      el.knownLearners.append(
        h("button", {
          type: "button",
          class: `learner-pill${learner.wa_id === state.learner.wa_id ? " current" : ""}`,
          "data-testid": "learner-pill",
          text: `${learner.name || "?"} · +${learner.wa_id}`,
          onclick: () => {
            el.learnerWaId.value = learner.wa_id;
            el.learnerName.value = learner.name || "";
          },
        })
      );
    }
    const cfg = state.config || {};
    el.settingsMeta.textContent = cfg.phone_number_id
      ? `Negocio: ${businessName()} · ${cfg.display_phone_number || ""} · phone_number_id ${cfg.phone_number_id}`
      : "";
    sheetReturnFocus = document.activeElement;
    el.settingsBackdrop.hidden = false;
    el.learnerWaId.focus();
  }

  el.settingsForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const waId = el.learnerWaId.value.replace(/[^\d]/g, "");
    const name = el.learnerName.value.trim();
    if (!/^\d{6,20}$/.test(waId)) {
      toast("El número debe tener entre 6 y 20 dígitos (sin +).");
      return;
    }
    if (!name) {
      toast("Escribe un nombre de perfil.");
      return;
    }
    closeSheets();
    setLearner({ wa_id: waId, name });
    toast(`Ahora eres ${name} (+${waId})`);
  });

  // Skip ahead: one scheduler pass as if it were later; what it queues arrives like any reply.
  const KIND_LABELS = { followup: "seguimiento", review: "repaso", reminder: "recordatorio", reengage: "reenganche" };
  const skipButtons = Array.from(document.querySelectorAll(".skip-btn"));
  const skipResult = $("skip-result");

  async function skipAhead(hours) {
    skipButtons.forEach((b) => (b.disabled = true));
    skipResult.textContent = "Pasando el planificador…";
    try {
      const res = await fetch("/dev/tick", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ hours }),
      });
      const body = await res.json().catch(() => ({}));
      if (!res.ok) {
        skipResult.textContent = "El planificador falló; mira la consola del servidor.";
        return;
      }
      const when = new Date(body.at).toLocaleString("es", { dateStyle: "medium", timeStyle: "short" });
      const kinds = Object.entries(body.by_kind || {})
        .map(([k, n]) => `${n} ${KIND_LABELS[k] || k}`)
        .join(", ");
      skipResult.textContent = body.queued
        ? `${when}: ${body.queued} mensaje(s) en camino (${kinds}).`
        : `${when}: nada pendiente para nadie.`;
    } catch (err) {
      skipResult.textContent = "Sin conexión con el servidor local.";
    } finally {
      skipButtons.forEach((b) => (b.disabled = false));
    }
  }

  skipButtons.forEach((b) => b.addEventListener("click", () => skipAhead(Number(b.dataset.hours))));

  el.learnerDefault.addEventListener("click", () => {
    const d = (state.config && state.config.default_learner) || FALLBACK_LEARNER;
    el.learnerWaId.value = d.wa_id;
    el.learnerName.value = d.name || "";
  });

  // ---------------------------------------------------------------- wiring

  el.form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (state.recorder) stopRecording(false);
    else sendText();
  });
  el.composer.addEventListener("keydown", (e) => {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendText();
    }
  });
  el.composer.addEventListener("input", syncComposer);
  el.mic.addEventListener("click", startRecording);
  el.recCancel.addEventListener("click", () => stopRecording(true));
  el.attach.addEventListener("click", () => el.fileInput.click());
  el.fileInput.addEventListener("change", () => {
    const file = el.fileInput.files && el.fileInput.files[0];
    el.fileInput.value = "";
    if (!file) return;
    if (file.type && !file.type.startsWith("audio/")) {
      toast("Elige un archivo de audio.");
      return;
    }
    sendAudio(file, file.name || "audio", false);
  });
  el.sheetClose.addEventListener("click", closeSheets);
  el.settingsClose.addEventListener("click", closeSheets);
  for (const backdrop of [el.sheetBackdrop, el.settingsBackdrop]) {
    backdrop.addEventListener("click", (e) => {
      if (e.target === backdrop) closeSheets();
    });
  }
  document.addEventListener("keydown", (e) => {
    if (e.key === "Escape") closeSheets();
  });
  el.learnerChip.addEventListener("click", openSettings);
  el.reset.addEventListener("click", () => {
    const chat = state.chat;
    chat.sent = [];
    chat.clearedAt = Date.now();
    saveChat(chat);
    renderAll();
    toast("Vista vaciada (solo en este navegador)");
  });

  // ---------------------------------------------------------------- start

  async function loadConfig() {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch("/dev/config", { cache: "no-store" });
        if (!res.ok) throw new Error(`config HTTP ${res.status}`);
        return await res.json();
      } catch (_) {
        if (attempt >= 2) {
          setOnline(false);
          return null;
        }
        await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  function applyConfig() {
    const name = businessName();
    el.headerName.firstChild.textContent = `${name} `;
    document.title = `${name} · simulador de WhatsApp`;
  }

  async function start() {
    syncComposer();
    state.config = await loadConfig();
    applyConfig();
    setLearner(loadLearner(), { persist: false });
    try {
      const list = await fetchOutbox(0);
      for (const item of list) ingest(item, false);
      renderAll();
      setOnline(true);
    } catch (_) {
      state.needResync = true;
      setOnline(false);
    }
    document.body.dataset.ready = "true";
    setTimeout(poll, POLL_MS);
    el.composer.focus();
  }

  start();
})();
