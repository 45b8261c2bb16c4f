// Almia web chat. Every piece of model or document text is inserted with textContent:
// nothing coming from the server is ever parsed as HTML.
//
// Sections: state and API calls · text rendering (Markdown subset, citations) · replies
// (sources, feedback, charter acceptance, template forms) · jobs · files · sending ·
// composer wiring.
"use strict";

(() => {
  const conversation = document.getElementById("conversation");
  const form = document.getElementById("composer");
  const question = document.getElementById("question");
  const send = document.getElementById("send");
  const source = document.getElementById("source");

  // -- words of the page: French, or English when the browser asks for English -----------
  // (a reply's own words — feedback, model, job panel — follow the reply's language)

  const UI_LOCALE = /^en\b/i.test(navigator.language || "") ? "en" : "fr";
  const WORDS = {
    fr: {
      empty: "Posez une question sur les documents de l'entreprise, ou tapez «\u00a0/almia aide\u00a0» pour voir ce qu'Almia sait faire. Ses réponses citent leurs sources et restent des brouillons à vérifier. Joignez un document avec le trombone, à gauche de la zone de saisie, ou glissez-le sur la page : Almia répond alors à partir de ce document.",
      title: "Almia — assistant interne", tagline: "Assistant interne — les réponses sont des brouillons à vérifier.",
      newThread: "Nouvelle", newThreadRest: " conversation", newThreadTitle: "Nouvelle conversation",
      ask: "Posez une question, ou «\u00a0/almia\u00a0summary\u00a0» suivi des notes d'un appel…",
      askFile: "Posez une question sur ce fichier, ou «\u00a0Résume ce document\u00a0»…",
      send: "Envoyer", attach: "Joindre des fichiers", attachTitle: "Joindre des fichiers (PDF, DOCX, XLSX, CSV, TXT, MD, ZIP)",
      drop: "Déposez vos fichiers ici", close: "Fermer", source: "Source citée", attached: "Fichiers joints",
      helpful: ["👍 Utile", "Réponse utile"], review: ["👎 À revoir", "Réponse à améliorer"], model: "Modèle : ",
      runTemplate: "Lancer le modèle", offline: "Connexion impossible avec Almia. Réessayez.",
      jobWaiting: "Tâche en attente…", cancel: "Annuler", cancelling: "Annulation demandée : la tâche s'arrête à sa prochaine étape…", uploading: "envoi…", uploadFailed: "Envoi impossible : réessayez.",
      remove: "Retirer", error: "Erreur", page: "page", megabytes: "Mo", kilobytes: "Ko", decimal: ",",
      states: { queued: "en attente", running: "en cours", succeeded: "terminée", failed: "échouée",
        cancelled: "annulée", timed_out: "arrêtée (durée dépassée)" },
    },
    en: {
      empty: "Ask a question about the company's documents, or type “/almia help” to see what Almia can do. Its answers cite their sources and remain drafts to check. Attach a document with the paper clip, left of the text box, or drop it on the page: Almia then answers from that document.",
      title: "Almia — internal assistant", tagline: "Internal assistant — answers are drafts to check.",
      newThread: "New", newThreadRest: " conversation", newThreadTitle: "New conversation",
      ask: "Ask a question, or “/almia summary” followed by a call's notes…",
      askFile: "Ask a question about this file, or “Summarize this document”…",
      send: "Send", attach: "Attach files", attachTitle: "Attach files (PDF, DOCX, XLSX, CSV, TXT, MD, ZIP)",
      drop: "Drop your files here", close: "Close", source: "Cited source", attached: "Attached files",
      helpful: ["👍 Helpful", "Helpful answer"], review: ["👎 Needs work", "Answer to improve"], model: "Model: ",
      runTemplate: "Run the template", offline: "Cannot reach Almia. Try again.",
      jobWaiting: "Job queued…", cancel: "Cancel", cancelling: "Cancellation asked: the job stops at its next step…", uploading: "uploading…", uploadFailed: "Upload failed: try again.",
      remove: "Remove", error: "Error", page: "page", megabytes: "MB", kilobytes: "KB", decimal: ".",
      states: { queued: "queued", running: "running", succeeded: "done", failed: "failed",
        cancelled: "cancelled", timed_out: "stopped (took too long)" },
    },
  };
  const words = (locale) => WORDS[locale === "en" || locale === "fr" ? locale : UI_LOCALE];
  const ui = words(UI_LOCALE);

  // the page's own words, once
  document.documentElement.lang = UI_LOCALE;
  document.getElementById("conversation").dataset.empty = ui.empty;
  document.title = ui.title;
  document.querySelector("header .tagline").textContent = ui.tagline;
  const newThread = document.getElementById("new-thread");
  newThread.title = ui.newThreadTitle;
  newThread.replaceChildren(ui.newThread, Object.assign(document.createElement("span"), { className: "wide", textContent: ui.newThreadRest }));
  question.placeholder = ui.ask;
  send.textContent = ui.send;
  document.getElementById("attach").title = ui.attachTitle;
  document.querySelector("#attach .visually-hidden").textContent = ui.attach;
  document.querySelector("#drop p").textContent = ui.drop;
  document.getElementById("close-source").setAttribute("aria-label", ui.close);
  source.setAttribute("aria-label", ui.source);
  document.getElementById("attachments").setAttribute("aria-label", ui.attached);

  // -- state and API calls ---------------------------------------------------------------

  const userId = localStorage.getItem("almia.user") || `local-${crypto.randomUUID()}`;
  localStorage.setItem("almia.user", userId);
  const tokenMatch = /token=([^&]+)/.exec(location.hash);
  if (tokenMatch) { sessionStorage.setItem("almia.token", decodeURIComponent(tokenMatch[1])); history.replaceState(null, "", "/"); }
  let thread = sessionStorage.getItem("almia.thread") || "";

  function headers(json = true) {
    const result = json ? { "Content-Type": "application/json" } : {};
    const token = sessionStorage.getItem("almia.token");
    if (token) result.Authorization = `Bearer ${token}`;
    return result;
  }

  async function errorMessage(response) {
    try {
      const { error } = await response.json();
      return (UI_LOCALE === "en" && error.message_en) || error.message;
    } catch (_) { return `${ui.error} ${response.status}`; }
  }

  // Server-Sent Events of /api/chat/stream: calls handlers[name](payload) for each event.
  async function readEvents(response, handlers) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (name && data !== undefined && handlers[name]) handlers[name](JSON.parse(data));
      }
    }
  }

  // -- text rendering: a safe Markdown subset -------------------------------------------

  // **bold**, *italic* or _italic_, `code`, and [n] citation markers.
  const INLINE = /\*\*(?=\S)([^*\n]+?)\*\*|(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\p{L}\p{N}_])_(?=\S)([^_\n]+?)(?<=\S)_(?![\p{L}\p{N}_])|`([^`\n]+)`|\s?\[(\d{1,2})\]/gu;

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  // ``final``: citations are known, so a marker without one is dropped (while streaming it
  // stays as plain text until the reply says which sources exist).
  function renderInline(parent, text, citations, final) {
    let last = 0;
    for (const match of text.matchAll(INLINE)) {
      const before = text.slice(last, match.index);
      last = match.index + match[0].length;
      const [, bold, star, underscore, code, number] = match;
      const citation = number === undefined ? null : citations.find((c) => c.number === Number(number));
      if (citation) {
        renderCitation(parent, before, /^\s/.test(match[0]), citation);
        continue;
      }
      parent.appendChild(document.createTextNode(before));
      if (bold !== undefined) parent.appendChild(element("strong", "", bold));
      else if (star !== undefined || underscore !== undefined) parent.appendChild(element("em", "", star ?? underscore));
      else if (code !== undefined) parent.appendChild(element("code", "", code));
      else if (!final) parent.appendChild(document.createTextNode(match[0]));
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  // A citation button kept on the same line as the word before it.
  function renderCitation(parent, before, spaced, citation) {
    const word = /\S*$/.exec(before)[0];
    parent.appendChild(document.createTextNode(before.slice(0, before.length - word.length)));
    const group = element("span", "cited", word + (spaced ? "\u00a0" : ""));
    const button = element("button", "citation", String(citation.number));
    button.type = "button";
    button.title = label(citation);
    button.setAttribute("aria-label", `Source ${citation.number}${UI_LOCALE === "en" ? ":" : "\u00a0:"} ${label(citation)}`);
    button.addEventListener("click", () => showSource(citation));
    group.appendChild(button);
    parent.appendChild(group);
  }

  // French typography: no line starts with « » », « : », « ; », « ? », « ! » or « % », and
  // none ends with « « » (a no-break space instead of the space beside them)
  function frenchSpacing(text) {
    return text.replace(/« /g, "«\u00a0").replace(/ ([»:;?!%])/g, "\u00a0$1");
  }

  function renderText(target, text, citations = [], final = true) {
    target.replaceChildren();
    for (const line of frenchSpacing(text).split("\n")) {
      const heading = /^\s*(?:#{1,6}\s+(.+?)\s*#*|\*\*([^*]+)\*\*:?)\s*$/.exec(line);
      const bullet = /^(\s*)(?:[-*•]|(\d{1,3})[.)])\s+(.*)$/.exec(line);
      let div;
      if (!line.trim()) div = element("div", "gap");
      else if (heading) div = element("div", "heading", heading[1] ?? heading[2]);
      else if (bullet) {
        div = element("div", bullet[1].length >= 2 ? "item nested" : "item");
        div.dataset.marker = bullet[2] ? `${bullet[2]}.` : "•";
        renderInline(div, bullet[3], citations, final);
      } else {
        div = element("div", "line");
        renderInline(div, line, citations, final);
      }
      target.appendChild(div);
    }
  }

  // -- citations ---------------------------------------------------------------------------

  // The section's heading path without the document title it usually starts with.
  function sectionOf(citation) {
    const parts = (citation.section || "").split(/\s+>\s+/).map((p) => p.trim()).filter(Boolean);
    return parts.filter((part, index) => !(index === 0 && part === citation.title)).join(" › ");
  }

  function label(citation) {
    const parts = [citation.title || citation.document];
    const section = sectionOf(citation);
    if (section) parts.push(section);
    if (citation.page) parts.push(`p. ${citation.page}`);
    return parts.join(" — ");
  }

  let opener = null;  // what opened the source panel: focus goes back there when it closes
  function closeSource() {
    if (source.hidden) return;
    source.hidden = true;
    if (opener && document.contains(opener)) opener.focus();
  }

  function showSource(citation) {
    opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    document.getElementById("source-title").textContent = `[${citation.number}] ${citation.title || citation.document}`;
    const where = [citation.document, sectionOf(citation), citation.page ? `${ui.page} ${citation.page}` : ""];
    document.getElementById("source-meta").textContent = where.filter(Boolean).join(" — ");
    // the passage's own Markdown (bold, lists, headings) shown as such, built node by node;
    // a bracketed number in it stays text
    renderText(document.getElementById("source-text"), citation.passage || "", [], false);
    source.hidden = false;
    document.getElementById("close-source").focus();
  }

  function renderSources(target, citations) {
    if (!citations.length) return;
    const list = element("ol", "sources");
    for (const citation of citations) {
      const item = element("li");
      item.value = citation.number;
      const button = element("button", "source-link", label(citation));
      button.type = "button";
      button.addEventListener("click", () => showSource(citation));
      item.appendChild(button);
      list.appendChild(item);
    }
    target.appendChild(list);
  }

  // -- replies -------------------------------------------------------------------------------

  function bubble(kind) {
    const node = element("div", `message ${kind}`);
    conversation.appendChild(node);
    conversation.scrollTop = conversation.scrollHeight;
    return node;
  }

  // 👍/👎 only under real answers (not under « je ne sais pas », errors or notices).
  function renderFeedback(target, reply) {
    if (!reply.turn_id || reply.kind !== "answer") return;
    const box = element("div", "feedback meta");
    const said = words(reply.locale);
    for (const [[text, title], value] of [[said.helpful, 1], [said.review, -1]]) {
      const button = element("button", "", text);
      button.type = "button";
      button.title = title;
      button.setAttribute("aria-pressed", "false");
      button.addEventListener("click", async () => {
        const response = await fetch("/api/feedback", {
          method: "POST", headers: headers(),
          body: JSON.stringify({ turn_id: reply.turn_id, value, user: userId }),
        });
        if (response.ok) {
          box.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", "false"));
          button.setAttribute("aria-pressed", "true");
        }
      });
      box.appendChild(button);
    }
    target.appendChild(box);
  }

  // The usage charter asks to reply « J'accepte »: offer it as a button.
  const CHARTER_PROMPT = /« J'accepte »|“I accept”/;

  function renderCharterAccept(target, reply) {
    if (reply.skill !== "charter" || !CHARTER_PROMPT.test(reply.text)) return;
    const accepting = reply.locale === "en" ? "I accept" : "J'accepte";
    const button = element("button", "accept", accepting);
    button.type = "button";
    button.addEventListener("click", async () => {
      button.disabled = true;
      await submit(accepting);
    });
    target.appendChild(button);
  }

  function renderReply(target, reply) {
    target.classList.toggle("error", reply.kind === "error");
    target.classList.toggle("info", reply.kind === "info");
    const body = element("div", "body");
    renderText(body, reply.text, reply.citations || []);
    target.replaceChildren(body);
    renderSources(target, reply.citations || []);
    renderCharterAccept(target, reply);
    if (reply.model) target.appendChild(element("div", "meta", `${words(reply.locale).model}${reply.model}`));
    renderFeedback(target, reply);
    if (reply.form) renderForm(target, reply.form, reply.locale);
    for (const card of reply.cards || []) renderCard(target, card);
    if (reply.job_id) followJob(target, reply.job_id, reply.locale);
    target.dataset.done = "true";
  }

  // A template's missing variables: one field per variable, then the filled command is sent.
  function quote(value) { return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`; }

  function renderForm(target, spec, locale) {
    const box = element("form", "template-form");
    const fields = [];
    for (const variable of spec.variables) {
      const labelNode = element("label", "", variable.required ? `${variable.name} *` : variable.name);
      let input;
      if (variable.type === "choice") {
        input = element("select");
        for (const choice of variable.choices) {
          const option = element("option", "", choice);
          option.value = choice;
          input.appendChild(option);
        }
      } else if (variable.type === "number") {
        input = element("input");
        input.type = "text"; input.inputMode = "decimal";
      } else {
        input = element("textarea");
        input.rows = 2;
      }
      input.name = variable.name;
      input.required = variable.required;
      if (spec.values[variable.name] !== undefined) input.value = spec.values[variable.name];
      else if (variable.default !== null && variable.type !== "choice") input.value = variable.default;
      labelNode.appendChild(input);
      box.appendChild(labelNode);
      fields.push(input);
    }
    const run = element("button", "form-run", words(locale).runTemplate);
    run.type = "submit";
    box.appendChild(run);
    box.addEventListener("submit", async (event) => {
      event.preventDefault();
      const parts = fields.filter((f) => f.value !== "").map((f) => `${f.name}=${quote(f.value)}`);
      run.disabled = true;
      try { await submit(`/template use ${spec.name}@${spec.version} ${parts.join(" ")}`); }
      finally { run.disabled = false; }  // a value refused (« abc » for a number) can be corrected here
    });
    target.appendChild(box);
  }

  // A skill's card (bot.cards): title, text, facts, inputs, buttons. A button posts its
  // action with its values and what was typed to /api/action; the reply comes as a new bubble.
  function renderCard(target, card) {
    const box = element("section", "card");
    box.appendChild(element("div", "card-title", card.title));
    if (card.text) { const text = element("div", "card-text"); renderText(text, card.text); box.appendChild(text); }
    if (card.facts.length) {
      const facts = element("dl", "card-facts");
      for (const [name, value] of card.facts) {
        facts.appendChild(element("dt", "", name));
        facts.appendChild(element("dd", "", value));
      }
      box.appendChild(facts);
    }
    const fields = [];
    for (const spec of card.inputs) {
      const labelNode = element("label", "", spec.label);
      const choices = spec.choices || [];
      const input = element(choices.length ? "select" : spec.multiline ? "textarea" : "input");
      for (const [value, title] of choices) {
        const option = element("option", "", title || value);
        option.value = value;
        input.appendChild(option);
      }
      if (spec.multiline && !choices.length) input.rows = spec.value ? Math.min(16, spec.value.split("\n").length + 1) : 2;
      input.name = spec.id;
      input.value = spec.value;
      if (!choices.length) input.placeholder = spec.placeholder || "";
      labelNode.appendChild(input);
      box.appendChild(labelNode);
      fields.push(input);
    }
    const buttons = element("div", "card-buttons");
    for (const spec of card.buttons) {
      const button = element("button", `card-button ${spec.style}`, spec.label);
      button.type = "button";
      button.addEventListener("click", async () => {
        const typed = Object.fromEntries(fields.map((f) => [f.name, f.value]));
        buttons.querySelectorAll("button").forEach((b) => { b.disabled = true; });
        const answer = bubble("assistant");
        answer.appendChild(element("div", "progress", "…"));
        try {
          const response = await fetch("/api/action", {
            method: "POST", headers: headers(),
            body: JSON.stringify({ action: spec.action, values: { ...typed, ...spec.values }, user: userId, thread: thread || null, locale: UI_LOCALE }),
          });
          if (!response.ok) renderReply(answer, { text: await errorMessage(response), kind: "error", citations: [] });
          else { const reply = (await response.json()).reply; renderReply(answer, reply); remember({ reply }); }
        } catch (error) {
          renderReply(answer, { text: ui.offline, kind: "error", citations: [] });
        } finally {
          buttons.querySelectorAll("button").forEach((b) => { b.disabled = false; });
          conversation.scrollTop = conversation.scrollHeight;
        }
      });
      buttons.appendChild(button);
    }
    box.appendChild(buttons);
    target.appendChild(box);
  }

  // -- jobs: a progress panel fed by /api/jobs/<id>/events, then the result and its files --

  function followJob(target, jobId, locale) {
    const said = words(locale);
    const panel = element("div", "job");
    const title = element("div", "job-title", said.jobWaiting);
    const bar = element("progress");
    bar.max = 1; bar.value = 0;
    const status = element("div", "meta");
    const cancel = element("button", "job-cancel", said.cancel);
    cancel.type = "button";
    let cancelling = false;
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      cancelling = true;
      status.textContent = said.cancelling;  // said at once: stopping waits for a step's end
      try {
        const response = await fetch(`/api/jobs/${jobId}/cancel?user=${encodeURIComponent(userId)}`, { method: "POST", headers: headers() });
        if (!response.ok) { cancelling = false; cancel.disabled = false; status.textContent = await errorMessage(response); }
      } catch (_) { cancelling = false; cancel.disabled = false; status.textContent = said.offline || ""; }
    });
    panel.append(title, bar, status, cancel);
    target.appendChild(panel);
    const show = (job) => {
      title.textContent = `${job.title || job.skill} — ${said.states[job.state] || job.state}`;
      bar.value = job.progress;
      status.textContent = cancelling ? said.cancelling : (job.status || "");
    };
    const finish = (job) => {
      // a person reading the latest messages sees the result arrive, not just the panel grow
      const following = conversation.scrollHeight - conversation.scrollTop - conversation.clientHeight < 120;
      show(job);
      status.textContent = "";  // the last step's status means nothing once it has ended
      bar.remove(); cancel.remove();
      panel.classList.add(job.state === "succeeded" ? "done" : "failed");
      if (job.result) {
        const body = element("div", "body");
        renderText(body, job.result.text);
        panel.appendChild(body);
        for (const card of job.result.cards || []) renderCard(panel, card);
      }
      const files = job.artefacts || [];
      if (files.length) {
        const list = element("ul", "artefacts");
        for (const file of files) {
          const item = element("li");
          const link = element("a", "", file.name);
          link.href = file.url;
          link.download = file.name;
          item.append(link, element("span", "meta", ` (${sizeText(file.size)})`));
          list.appendChild(item);
          if (file.media_type === "image/png") {  // a chart: shown where the result is read
            const image = element("img", "artefact-image");
            image.src = file.url;
            image.alt = file.name;
            if (following) image.addEventListener("load", () => { conversation.scrollTop = conversation.scrollHeight; });
            panel.appendChild(image);
          }
        }
        panel.appendChild(list);
      }
      if (following) conversation.scrollTop = conversation.scrollHeight;
    };
    (async () => {
      for (let attempt = 0; attempt < 30; attempt++) {
        try {
          const response = await fetch(`/api/jobs/${jobId}/events?user=${encodeURIComponent(userId)}`, { headers: headers(false) });
          if (!response.ok) { status.textContent = await errorMessage(response); return; }
          let ended = false;
          await readEvents(response, { progress: show, done: (job) => { ended = true; finish(job); } });
          if (ended) return;
        } catch (_) { /* connection lost: follow again below */ }
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
    })();
  }

  // -- files: picked or dropped, uploaded at once, sent with the next message -------------

  const attachments = document.getElementById("attachments");
  const fileInput = document.getElementById("file-input");
  const drop = document.getElementById("drop");
  let pending = [];  // [{id, name}] accepted uploads waiting for the next message

  function sizeText(size) {
    return size >= 1048576 ? `${(size / 1048576).toFixed(1).replace(".", ui.decimal)} ${ui.megabytes}`
      : `${Math.max(1, Math.round(size / 1024))} ${ui.kilobytes}`;
  }

  const askAnything = question.placeholder;
  function showAttachments() {
    attachments.hidden = pending.length === 0 && !attachments.querySelector(".uploading, .refused");
    // a file waiting: say what can be asked of it
    question.placeholder = pending.length ? ui.askFile : askAnything;
  }

  function chip(name) {
    const item = element("li", "uploading");
    const label = element("span", "", `${name} — ${ui.uploading}`);
    const remove = element("button", "", "×");
    remove.type = "button";
    remove.title = `${ui.remove} ${name}`;
    item.append(label, remove);
    attachments.appendChild(item);
    attachments.hidden = false;
    return { item, label, remove };
  }

  async function upload(files) {
    if (!files.length) return;
    const chips = Array.from(files, (file) => chip(file.name));
    const body = new FormData();
    for (const file of files) body.append("file", file, file.name);
    send.disabled = true;
    try {
      const response = await fetch(`/api/files?user=${encodeURIComponent(userId)}&locale=${UI_LOCALE}`, { method: "POST", headers: headers(false), body });
      if (!response.ok) {
        const message = await errorMessage(response);
        for (const { item, label, remove } of chips) {
          item.className = "refused"; label.textContent = message;
          remove.onclick = () => { item.remove(); showAttachments(); };
        }
        return;
      }
      const accepted = (await response.json()).files;
      accepted.forEach((file, index) => {
        const { item, label, remove } = chips[index];
        item.className = "ready";
        label.textContent = `${file.name} (${sizeText(file.size)})`;
        label.className = "clip";
        pending.push({ id: file.id, name: file.name });
        remove.onclick = () => { pending = pending.filter((p) => p.id !== file.id); item.remove(); showAttachments(); };
      });
    } catch (_) {
      for (const { item, label } of chips) { item.className = "refused"; label.textContent = ui.uploadFailed; }
    } finally {
      send.disabled = false;
      showAttachments();
    }
  }

  fileInput.addEventListener("change", async () => { await upload(Array.from(fileInput.files)); fileInput.value = ""; });
  let dragDepth = 0;
  document.addEventListener("dragenter", (event) => {
    if (!event.dataTransfer?.types.includes("Files")) return;
    dragDepth += 1; drop.hidden = false;
  });
  document.addEventListener("dragleave", () => { dragDepth = Math.max(0, dragDepth - 1); if (!dragDepth) drop.hidden = true; });
  document.addEventListener("dragover", (event) => { if (event.dataTransfer?.types.includes("Files")) event.preventDefault(); });
  document.addEventListener("drop", async (event) => {
    if (!event.dataTransfer?.files.length) return;
    event.preventDefault();
    dragDepth = 0; drop.hidden = true;
    await upload(Array.from(event.dataTransfer.files));
  });

  // -- sending ---------------------------------------------------------------------------

  // The conversation shown, kept for this tab (sessionStorage, like its thread): a reload
  // shows again what the next question follows on. The server keeps the thread either way.
  const HISTORY = "almia.history";
  const KEPT = 60;
  function shown() {
    try { return JSON.parse(sessionStorage.getItem(HISTORY) || "[]"); } catch (_) { return []; }
  }
  function remember(entry) {
    const kept = shown().concat([entry]).slice(-KEPT);
    try { sessionStorage.setItem(HISTORY, JSON.stringify(kept)); }
    catch (_) { sessionStorage.removeItem(HISTORY); }  // too big for the tab's storage
  }
  function userBubble(text, names) {
    const mine = bubble("user");
    mine.textContent = text;  // what the person typed, as typed
    for (const name of names || []) mine.appendChild(element("div", "attached clip", name));
    return mine;
  }

  // One question and its streamed answer. ``extra`` joins the request body (e.g. attachments).
  async function ask(text, extra = {}) {
    const names = extra.names || [];
    const mine = userBubble(text, names);
    delete extra.names;
    const answer = bubble("assistant");
    answer.appendChild(element("div", "progress", "…"));
    let response;
    try {
      response = await fetch("/api/chat/stream", {
        method: "POST", headers: headers(),
        body: JSON.stringify({ text, user: userId, thread: thread || null, locale: UI_LOCALE, ...extra }),
      });
    } catch (error) {  // not sent: the question goes back to the composer, to send again
      answer.remove(); mine.remove();
      throw error;
    }
    remember({ user: text, names });
    if (!response.ok || !response.body) {
      renderReply(answer, { text: await errorMessage(response), kind: "error", citations: [] });
      return;
    }
    let streamed = "";
    await readEvents(response, {
      thread: (payload) => { thread = payload.thread; sessionStorage.setItem("almia.thread", thread); },
      progress: (payload) => {
        const progress = answer.querySelector(".progress") || answer.appendChild(element("div", "progress"));
        progress.textContent = payload.text;
      },
      delta: (payload) => { streamed += payload.text; renderText(answer, streamed, [], false); },
      reply: (payload) => { renderReply(answer, payload); remember({ reply: payload }); },
    });
    conversation.scrollTop = conversation.scrollHeight;
  }

  // Sends while the composer is locked; a failure shows as an error bubble.
  async function submit(text, extra = {}) {
    send.disabled = true;
    try { await ask(text, extra); }
    catch (error) {
      renderReply(bubble("assistant"), { text: ui.offline, kind: "error", citations: [] });
      if (!question.value.trim()) question.value = text;  // nothing typed is lost
    }
    finally { send.disabled = false; question.focus(); }
  }

  // -- composer wiring ------------------------------------------------------------------

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = question.value;
    if ((!text.trim() && !pending.length) || send.disabled) return;
    question.value = "";
    const extra = pending.length ? { attachments: pending.map((p) => p.id), names: pending.map((p) => p.name) } : {};
    pending = [];
    attachments.replaceChildren();
    showAttachments();
    await submit(text, extra);
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("close-source").addEventListener("click", closeSource);
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeSource(); });
  document.getElementById("new-thread").addEventListener("click", () => {
    thread = ""; sessionStorage.removeItem("almia.thread"); sessionStorage.removeItem(HISTORY);
    conversation.replaceChildren(); source.hidden = true;
  });

  // a reload shows the conversation again (its jobs followed again)
  if (thread) {
    for (const entry of shown()) {
      if (entry.reply) renderReply(bubble("assistant"), entry.reply);
      else if (typeof entry.user === "string") userBubble(entry.user, entry.names);
    }
    conversation.scrollTop = conversation.scrollHeight;  // where the conversation was left
  } else {
    sessionStorage.removeItem(HISTORY);
  }
})();
