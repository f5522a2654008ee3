// A small asciicast v2 player without a terminal emulator: it streams the
// recording (playback starts as soon as the first events arrive, so a long
// recording is never loaded whole first), strips ANSI sequences and shows
// the text in a <pre>. Buttons with data-offset seek to that moment.
(function () {
  "use strict";
  var root = document.getElementById("player");
  if (!root) return;
  var screen = document.getElementById("player-screen");
  var toggle = document.getElementById("player-toggle");
  var seekBar = document.getElementById("player-seek");
  var clock = document.getElementById("player-clock");
  var status = document.getElementById("player-status");

  var ansi = /\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[P^_][^\x1b]*\x1b\\|\x1b\[[0-?]*[ -\/]*[@-~]|\x1b[ -\/]*[0-~]|[\x00-\x07\x0b-\x0c\x0e-\x1a\x1c-\x1f\x7f]/g;
  var maxLines = 3000;

  var events = [];   // output events only: [time, text]
  var done = false;  // the whole recording has arrived
  var pos = 0;       // playback position, seconds
  var next = 0;      // index of the next event to show
  var text = "";
  var playing = false;
  var lastTick = 0;
  var pendingSeek = -1;

  function setStatus(s) { status.textContent = s; }

  function append(data) {
    data = data.replace(ansi, "").replace(/\r\n/g, "\n");
    for (var i = 0; i < data.length; i++) {
      var c = data.charAt(i);
      if (c === "\b") { text = text.slice(0, -1); }
      else if (c === "\r") { text = text.slice(0, text.lastIndexOf("\n") + 1); }
      else { text += c; }
    }
    if (text.length > 400000) {
      var lines = text.split("\n");
      text = lines.slice(-maxLines).join("\n");
    }
  }

  function show() {
    screen.textContent = text;
    screen.scrollTop = screen.scrollHeight;
    clock.textContent = pos.toFixed(1) + " s";
    if (document.activeElement !== seekBar) seekBar.value = pos;
  }

  // advance shows every event up to the position.
  function advance() {
    var changed = false;
    while (next < events.length && events[next][0] <= pos) {
      append(events[next][1]);
      next++;
      changed = true;
    }
    return changed;
  }

  function seek(t) {
    t = Math.max(0, t);
    if (!done && (events.length === 0 || events[events.length - 1][0] < t)) {
      pendingSeek = t; // not loaded yet: seek when it arrives
      setStatus("Loading up to " + t.toFixed(1) + " s…");
    }
    text = "";
    next = 0;
    pos = t;
    advance();
    show();
  }

  function tick(now) {
    if (!playing) return;
    var dt = lastTick ? (now - lastTick) / 1000 : 0;
    lastTick = now;
    // Idle stretches longer than two seconds are skipped.
    if (next < events.length && events[next][0] - pos > 2) pos = events[next][0] - 0.5;
    pos += dt;
    if (advance()) show(); else clock.textContent = pos.toFixed(1) + " s";
    if (done && next >= events.length) { pause(); setStatus("End of recording."); return; }
    requestAnimationFrame(tick);
  }

  function play() {
    if (playing) return;
    if (done && next >= events.length) seek(0);
    playing = true;
    lastTick = 0;
    toggle.textContent = "Pause";
    setStatus("");
    requestAnimationFrame(tick);
  }

  function pause() {
    playing = false;
    toggle.textContent = "Play";
  }

  toggle.addEventListener("click", function () { playing ? pause() : play(); });
  seekBar.addEventListener("input", function () { seek(parseFloat(seekBar.value) || 0); });
  document.querySelectorAll("button.seek[data-offset]").forEach(function (b) {
    b.addEventListener("click", function () {
      seek(parseFloat(b.getAttribute("data-offset")) || 0);
      play();
      screen.focus();
    });
  });

  function onLine(line, first) {
    if (!line) return;
    var v;
    try { v = JSON.parse(line); } catch (e) { return; }
    if (first) return; // the header
    if (!Array.isArray(v) || v.length < 3 || v[1] !== "o") return;
    events.push([+v[0], String(v[2])]);
    var t = +v[0];
    if (t > +seekBar.max) seekBar.max = t;
  }

  // Stream the cast: parse lines as they arrive.
  setStatus("Loading…");
  fetch(root.getAttribute("data-cast"), { credentials: "same-origin" }).then(function (resp) {
    if (!resp.ok || !resp.body) throw new Error("HTTP " + resp.status);
    var reader = resp.body.getReader();
    var dec = new TextDecoder();
    var buf = "";
    var first = true;
    function pump() {
      return reader.read().then(function (r) {
        if (r.value) buf += dec.decode(r.value, { stream: true });
        var nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          onLine(buf.slice(0, nl), first);
          first = false;
          buf = buf.slice(nl + 1);
        }
        if (r.done) {
          onLine(buf + dec.decode(), first);
          done = true;
        }
        if (pendingSeek >= 0 && (done || (events.length && events[events.length - 1][0] >= pendingSeek))) {
          var t = pendingSeek;
          pendingSeek = -1;
          seek(t);
          setStatus("");
        } else if (!playing && next < events.length && events[next][0] <= pos) {
          advance();
          show();
        }
        if (status.textContent === "Loading…") setStatus("");
        if (!r.done) return pump();
        if (!events.length) setStatus("The recording has no output.");
      });
    }
    return pump();
  }).catch(function (e) { setStatus("The recording could not be loaded (" + e.message + ")."); done = true; });

  var m = /#t=([0-9.]+)/.exec(location.hash);
  if (m) seek(parseFloat(m[1]));
})();
