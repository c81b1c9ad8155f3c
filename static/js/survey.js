// The survey form on a phone: re-assess while the cadre types (the server runs the
// same eligibility engine on the unsaved form), and never lose typed input to a
// dropped connection: input is kept in this browser until a save reaches the server,
// a failed save says so plainly, and kept input is offered back after a reload.
(function () {
  "use strict";
  var form = document.getElementById("survey-form");
  var panel = document.getElementById("eligibility");
  var status = document.getElementById("save-status");
  if (!form) { return; }
  var key = "survey-draft:" + form.dataset.survey;

  // --- the eligibility panel ---------------------------------------------------
  var timer = null;
  var sequence = 0;
  function refresh() {
    if (!panel) { return; }
    var mine = ++sequence;
    fetch(panel.dataset.previewUrl, {method: "POST", body: new FormData(form), credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) { if (html !== null && mine === sequence) { panel.innerHTML = html; } })
      .catch(function () { /* offline for a moment: the panel keeps its last figures */ });
  }

  // --- input kept in this browser ------------------------------------------------
  function fields() {
    var out = [];
    new FormData(form).forEach(function (value, name) {
      if (name !== "csrfmiddlewaretoken" && typeof value === "string") { out.push([name, value]); }
    });
    return out;
  }
  function say(text, kind) {
    if (!status) { return; }
    status.className = "alert small py-2 mb-2 alert-" + kind;
    status.textContent = text;
    status.hidden = !text;
  }
  function keep() {
    try {
      localStorage.setItem(key, JSON.stringify({at: new Date().toISOString(), fields: fields()}));
      say("有尚未保存的修改（已暂存在本机）。", "secondary");
    } catch (e) { /* storage full or disabled: the form still works as a plain form */ }
  }
  function kept() {
    try { return JSON.parse(localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }
  function forget() { try { localStorage.removeItem(key); } catch (e) { /* nothing kept */ } }

  function restore(saved) {
    var byName = {};
    saved.fields.forEach(function (pair) { (byName[pair[0]] = byName[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrfmiddlewaretoken") { return; }
      var values = byName[el.name] || [];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) { o.selected = values.indexOf(o.value) !== -1; });
      } else if (values.length) {
        // the kept edit_version too: restored input is checked against later saves like any save
        el.value = values[0];
      }
    });
    say("已恢复本机暂存的内容，请核对后点击“保存草稿”。", "info");
    refresh();
  }

  function offerKept() {
    var saved = kept();
    if (!saved || !saved.fields) { return; }
    var now = JSON.stringify(fields());
    if (JSON.stringify(saved.fields) === now) { forget(); return; }
    var offer = document.getElementById("restore-offer");
    if (!offer) { return; }
    offer.querySelector("[data-kept-at]").textContent = new Date(saved.at).toLocaleString("zh-CN");
    offer.hidden = false;
    offer.querySelector("[data-restore]").addEventListener("click", function () { offer.hidden = true; restore(saved); });
    offer.querySelector("[data-discard]").addEventListener("click", function () { offer.hidden = true; forget(); say("", "secondary"); });
  }

  // --- saving --------------------------------------------------------------------
  var saving = false;
  form.addEventListener("submit", function (event) {
    if (saving || !window.fetch) { return; }  // the second, native submit goes through
    event.preventDefault();
    keep();
    say("正在保存…", "secondary");
    var button = event.submitter;
    var body = new FormData(form);
    if (button && button.name) { body.append(button.name, button.value); }
    // (form.action would be the button named "action", not the attribute)
    var target = form.getAttribute("action") || window.location.href;
    // The redirect is not followed here: the page it leads to (the form again) shows the
    // server's "saved" message, which following it inside fetch would use up.
    fetch(target, {method: "POST", body: body, credentials: "same-origin", redirect: "manual"})
      .then(function (response) {
        if (response.type === "opaqueredirect") {
          forget();
          window.location.assign(target);
        } else if (response.status === 400 || response.status === 409) {
          // nothing was saved: let the server show its messages beside the fields
          saving = true;
          form.submit();
        } else {
          say("保存没有成功（服务器错误 " + response.status + "）。您填写的内容仍保留在本机，请稍后再点“保存草稿”。", "danger");
        }
      })
      .catch(function () {
        say("保存没有送达服务器（网络中断）。您填写的内容已保留在本机，网络恢复后请再点“保存草稿”；刷新页面后也可恢复。", "danger");
      });
  });

  function changed() { keep(); clearTimeout(timer); timer = setTimeout(refresh, 350); }
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  offerKept();
})();
