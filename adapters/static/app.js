// Almia web chat. Every piece of model or document text is inserted with textContent:
// nothing coming from the server is ever parsed as HTML.
"use strict";

(() => {
  const conversation = document.getElementById("conversation");
  const form = document.getElementById("composer");
  const question = document.getElementById("question");
  const send = document.getElementById("send");
  const source = document.getElementById("source");

  const userId = localStorage.getItem("almia.user") || `local-${crypto.randomUUID()}`;
  localStorage.setItem("almia.user", userId);
  const tokenMatch = /token=([^&]+)/.exec(location.hash);
  if (tokenMatch) { sessionStorage.setItem("almia.token", decodeURIComponent(tokenMatch[1])); history.replaceState(null, "", "/"); }
  let thread = sessionStorage.getItem("almia.thread") || "";

  function headers() {
    const result = { "Content-Type": "application/json" };
    const token = sessionStorage.getItem("almia.token");
    if (token) result.Authorization = `Bearer ${token}`;
    return result;
  }

  function bubble(kind) {
    const element = document.createElement("div");
    element.className = `message ${kind}`;
    conversation.appendChild(element);
    conversation.scrollTop = conversation.scrollHeight;
    return element;
  }

  // Inline: **bold** and [n] citation markers; everything else is plain text.
  function renderInline(parent, text, citations) {
    const pattern = /\*\*([^*]+)\*\*|\[(\d{1,2})\]/g;
    let last = 0;
    for (const match of text.matchAll(pattern)) {
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      if (match[1] !== undefined) {
        const strong = document.createElement("strong");
        strong.textContent = match[1];
        parent.appendChild(strong);
      } else {
        const citation = citations.find((c) => c.number === Number(match[2]));
        if (citation) {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "citation";
          button.textContent = match[2];
          button.title = citation.title;
          button.addEventListener("click", () => showSource(citation));
          parent.appendChild(button);
        } else {
          parent.appendChild(document.createTextNode(match[0]));
        }
      }
      last = match.index + match[0].length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function renderText(element, text, citations) {
    element.replaceChildren();
    for (const line of text.split("\n")) {
      const div = document.createElement("div");
      const heading = /^\*\*([^*]+)\*\*$/.exec(line.trim());
      if (heading) { div.className = "heading"; div.textContent = heading[1]; }
      else { div.className = "line"; renderInline(div, line, citations); }
      element.appendChild(div);
    }
  }

  function describe(citation) {
    const parts = [citation.document];
    if (citation.section) parts.push(citation.section);
    if (citation.page) parts.push(`page ${citation.page}`);
    return parts.join(" — ");
  }

  function showSource(citation) {
    document.getElementById("source-title").textContent = `[${citation.number}] ${citation.title}`;
    document.getElementById("source-meta").textContent = describe(citation);
    document.getElementById("source-text").textContent = citation.passage;
    source.hidden = false;
  }

  function renderSources(element, citations) {
    if (!citations.length) return;
    const list = document.createElement("ol");
    list.className = "sources";
    for (const citation of citations) {
      const item = document.createElement("li");
      item.value = citation.number;
      const button = document.createElement("button");
      button.type = "button";
      button.className = "source-link";
      button.textContent = `${citation.title} (${describe(citation)})`;
      button.addEventListener("click", () => showSource(citation));
      item.appendChild(button);
      list.appendChild(item);
    }
    element.appendChild(list);
  }

  function renderFeedback(element, reply) {
    if (!reply.turn_id || reply.kind === "error") return;
    const box = document.createElement("div");
    box.className = "feedback meta";
    for (const [label, value, title] of [["👍 Utile", 1, "Réponse utile"], ["👎 À revoir", -1, "Réponse à améliorer"]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
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
    element.appendChild(box);
  }

  function renderReply(element, reply) {
    element.classList.toggle("error", reply.kind === "error");
    const body = document.createElement("div");
    body.className = "body";
    renderText(body, reply.text, reply.citations);
    element.replaceChildren(body);
    renderSources(element, reply.citations);
    if (reply.model) {
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = `Modèle : ${reply.model}`;
      element.appendChild(meta);
    }
    renderFeedback(element, reply);
    if (reply.form) renderForm(element, reply.form);
    element.dataset.done = "true";
  }

  // A template's missing variables: one field per variable, then the filled command is sent.
  function quote(value) { return `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`; }

  function renderForm(element, spec) {
    const box = document.createElement("form");
    box.className = "template-form";
    const fields = [];
    for (const variable of spec.variables) {
      const label = document.createElement("label");
      label.textContent = variable.required ? `${variable.name} *` : variable.name;
      let input;
      if (variable.type === "choice") {
        input = document.createElement("select");
        for (const choice of variable.choices) {
          const option = document.createElement("option");
          option.value = choice; option.textContent = choice;
          input.appendChild(option);
        }
      } else if (variable.type === "number") {
        input = document.createElement("input");
        input.type = "text"; input.inputMode = "decimal";
      } else {
        input = document.createElement("textarea");
        input.rows = 2;
      }
      input.name = variable.name;
      input.required = variable.required;
      if (spec.values[variable.name] !== undefined) input.value = spec.values[variable.name];
      else if (variable.default !== null && variable.type !== "choice") input.value = variable.default;
      label.appendChild(input);
      box.appendChild(label);
      fields.push(input);
    }
    const submit = document.createElement("button");
    submit.type = "submit";
    submit.textContent = "Lancer le modèle";
    box.appendChild(submit);
    box.addEventListener("submit", async (event) => {
      event.preventDefault();
      const parts = fields.filter((f) => f.value !== "").map((f) => `${f.name}=${quote(f.value)}`);
      submit.disabled = true;
      await ask(`/template use ${spec.name}@${spec.version} ${parts.join(" ")}`);
    });
    element.appendChild(box);
  }

  async function ask(text) {
    renderText(bubble("user"), text, []);
    const answer = bubble("assistant");
    const progress = document.createElement("div");
    progress.className = "progress";
    progress.textContent = "…";
    answer.appendChild(progress);
    let streamed = "";
    const response = await fetch("/api/chat/stream", {
      method: "POST", headers: headers(),
      body: JSON.stringify({ text, user: userId, thread: thread || null }),
    });
    if (!response.ok || !response.body) {
      let message = `Erreur ${response.status}`;
      try { message = (await response.json()).error.message; } catch (_) { /* keep the status */ }
      renderReply(answer, { text: message, kind: "error", citations: [] });
      return;
    }
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let boundary;
      while ((boundary = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const name = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (!name || data === undefined) continue;
        const payload = JSON.parse(data);
        if (name === "thread") { thread = payload.thread; sessionStorage.setItem("almia.thread", thread); }
        else if (name === "progress") { progress.textContent = payload.text; }
        else if (name === "delta") {
          streamed += payload.text;
          renderText(answer, streamed, []);
        } else if (name === "reply") { renderReply(answer, payload); }
      }
    }
    conversation.scrollTop = conversation.scrollHeight;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = question.value;
    if (!text.trim()) return;
    question.value = "";
    send.disabled = true;
    try { await ask(text); }
    catch (error) { renderReply(bubble("assistant"), { text: "Connexion impossible avec Almia. Réessayez.", kind: "error", citations: [] }); }
    finally { send.disabled = false; question.focus(); }
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
  });
  document.getElementById("close-source").addEventListener("click", () => { source.hidden = true; });
  document.getElementById("new-thread").addEventListener("click", () => {
    thread = ""; sessionStorage.removeItem("almia.thread"); conversation.replaceChildren();
  });
})();
