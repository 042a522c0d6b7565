// Drag-and-drop upload to the API (session cookie + CSRF header); results shown as text, never as HTML.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  function item(list, cls, text) {
    var li = document.createElement("li");
    li.className = cls;
    li.textContent = text;
    list.appendChild(li);
  }

  function poll(ids, done) {
    if (!ids.length) { done(); return; }
    var left = ids.slice();
    var tick = function () {
      Promise.all(left.map(function (id) {
        return fetch("/api/v1/submissions/" + encodeURIComponent(id), {credentials: "same-origin"})
          .then(function (r) { return r.json(); })
          .then(function (s) { return (s.status === "checked" || s.status === "failed") ? null : id; })
          .catch(function () { return id; });
      })).then(function (rest) {
        left = rest.filter(Boolean);
        if (left.length) { setTimeout(tick, 700); } else { done(); }
      });
    };
    setTimeout(tick, 300);
  }

  function upload(drop, files) {
    var log = document.getElementById("upload-log");
    log.textContent = "";
    if (!files.length) { return; }
    var body = new FormData();
    for (var i = 0; i < files.length; i++) { body.append("file", files[i], files[i].name); }
    body.append("round", drop.getAttribute("data-round"));
    item(log, "", "正在上传 " + files.length + " 个文件……");
    fetch("/api/v1/submissions", {method: "POST", body: body, credentials: "same-origin",
                                  headers: {"X-CSRF-Token": csrf, "Accept": "application/json"}})
      .then(function (r) { return r.json().then(function (j) { return {ok: r.ok, status: r.status, body: j}; }); })
      .then(function (res) {
        log.textContent = "";
        var b = res.body || {};
        if (b.detail) { item(log, "refused", "未能提交：" + b.detail); return; }
        (b.submissions || []).forEach(function (s) {
          item(log, "accepted", "已收到 " + s.file + "（第 " + s.version + " 版），正在检查……");
        });
        (b.refused || []).forEach(function (s) { item(log, "refused", "未接收 " + s.file + "：" + s.reason); });
        var ids = (b.submissions || []).map(function (s) { return s.id; });
        poll(ids, function () {
          if (!ids.length) { return; }
          if ((b.refused || []).length) {  // keep the reasons on screen: the officer reloads when done reading
            var li = document.createElement("li");
            var a = document.createElement("a");
            a.href = window.location.pathname;
            a.textContent = "检查完成，点此刷新查看结果";
            li.appendChild(a);
            log.appendChild(li);
          } else {
            item(log, "accepted", "检查完成，正在刷新……");
            window.location.reload();
          }
        });
      })
      .catch(function () { log.textContent = ""; item(log, "refused", "上传失败：网络错误，请重试"); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var drop = document.getElementById("drop");
    if (drop) {
      var input = document.getElementById("files");
      input.addEventListener("change", function () { upload(drop, input.files); });
      ["dragenter", "dragover"].forEach(function (ev) {
        drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.add("over"); });
      });
      ["dragleave", "drop"].forEach(function (ev) {
        drop.addEventListener(ev, function (e) { e.preventDefault(); drop.classList.remove("over"); });
      });
      drop.addEventListener("drop", function (e) { upload(drop, e.dataTransfer.files); });
    }
    var pending = document.getElementById("pending");
    if (pending) { poll([pending.getAttribute("data-id")], function () { window.location.reload(); }); }
  });
})();
