// The import page (served by the server at /import): each dropped or chosen file is posted to
// /api/v1/import with the browser's session, one after the other. The server answers NDJSON:
// {"checked"}, then {"progress"} per batch written, then {"report"} — or {"error"}. Every text shown
// comes from the file or the server and is set as text, never as HTML.
"use strict";
(function () {
  const form = document.getElementById("import-form");
  const input = document.getElementById("import-files");
  const drop = form.querySelector(".drop");
  const results = document.getElementById("import-results");

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  const n = (v) => Number(v || 0).toLocaleString("en-US");

  function table(t) {
    const box = el("section", "import-table");
    box.appendChild(el("h3", null, t.file + " — " + t.kind + ": " + n(t.rows) + " rows"));
    const facts = [
      ["Matched by Entra device ID", t.matched_by_entra_id],
      ["Matched by name", t.matched_by_name],
      ["Created", t.created],
      ["Written", t.written],
      ["Unchanged", t.unchanged],
      ["Skipped", t.skipped],
    ];
    const dl = el("dl", "import-facts");
    for (const [k, v] of facts) {
      dl.appendChild(el("dt", null, k));
      dl.appendChild(el("dd", null, n(v)));
    }
    box.appendChild(dl);
    const ul = el("ul");
    for (const s of t.skipped_why || []) {
      ul.appendChild(el("li", null, "Skipped " + n(s.rows) + ": " + s.reason + " (lines " + s.lines.join(", ") + (s.rows > s.lines.length ? ", …" : "") + ")"));
    }
    for (const u of t.unknown_values || []) {
      ul.appendChild(el("li", null, "Unknown value “" + u.value + "” in " + u.column + " (" + n(u.rows) + " rows): kept, " + u.kept_as));
    }
    if ((t.derived || []).length) ul.appendChild(el("li", null, "Derived: " + t.derived.join(", ")));
    if ((t.not_in_file || []).length) ul.appendChild(el("li", null, "Not in the file (kept from the store): " + t.not_in_file.join(", ")));
    if ((t.ignored_columns || []).length) ul.appendChild(el("li", null, "Columns not used: " + t.ignored_columns.join(", ")));
    if (ul.childNodes.length) box.appendChild(ul);
    return box;
  }

  async function importOne(file) {
    const item = el("li", "import-file");
    item.dataset.testid = "import-file";
    const title = el("h2", null, file.name);
    const bar = el("progress");
    bar.max = 1;
    bar.removeAttribute("value");
    const status = el("p", "muted", "Checking…");
    status.setAttribute("role", "status");
    item.append(title, bar, status);
    results.appendChild(item);
    const fail = (text) => {
      bar.remove();
      status.className = "notice error";
      status.setAttribute("role", "alert");
      status.textContent = text;
      item.dataset.outcome = "refused";
    };
    let answer;
    try {
      const tenant = document.getElementById("import-tenant").value.trim();
      const query = "file=" + encodeURIComponent(file.name) + (tenant ? "&tenant=" + encodeURIComponent(tenant) : "");
      answer = await fetch("/api/v1/import?" + query, {
        method: "POST",
        body: file,
        credentials: "same-origin",
        headers: { "content-type": "application/octet-stream" },
      });
    } catch (e) {
      return fail("The server could not be reached: nothing was imported.");
    }
    if (!answer.ok) {
      let detail = "HTTP " + answer.status;
      try {
        detail = (await answer.json()).detail || detail;
      } catch (e) {}
      if (answer.status === 401) detail += " — sign in as an admin first.";
      return fail("Refused: " + detail);
    }
    const reader = answer.body.getReader();
    const decoder = new TextDecoder();
    let pending = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      pending += decoder.decode(value, { stream: true });
      let end;
      while ((end = pending.indexOf("\n")) >= 0) {
        const line = JSON.parse(pending.slice(0, end));
        pending = pending.slice(end + 1);
        if (line.checked) {
          bar.max = Math.max(1, line.checked.records);
          bar.value = 0;
          status.textContent = line.checked.records ? "Writing " + n(line.checked.records) + " records…" : "Nothing to write.";
        } else if (line.progress) {
          bar.value = line.progress.done;
          status.textContent = "Written " + n(line.progress.done) + " of " + n(line.progress.total) + " records…";
        } else if (line.error) {
          return fail("Refused: " + line.error.detail);
        } else if (line.report) {
          bar.max = 1;
          bar.value = 1;
          status.textContent = "Done: " + n(line.report.written) + " records written in " + n(line.report.milliseconds) + " ms.";
          item.dataset.outcome = "done";
          for (const t of line.report.tables) item.appendChild(table(t));
          return;
        }
      }
    }
    fail("The server ended the import without a report; import the file again.");
  }

  async function importAll(files) {
    const button = form.querySelector("button");
    button.disabled = true;
    for (const f of files) await importOne(f);
    button.disabled = false;
    input.value = "";
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    if (input.files.length) importAll(Array.from(input.files));
  });
  input.addEventListener("change", () => {
    if (input.files.length) importAll(Array.from(input.files));
  });
  for (const type of ["dragenter", "dragover"]) {
    drop.addEventListener(type, (e) => {
      e.preventDefault();
      drop.classList.add("over");
    });
  }
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    importAll(Array.from(e.dataTransfer.files));
  });
})();
