//! The page's two scripts, inlined: a trap that counts script errors (for the browser test),
//! and the hover read-out over the charts and the evidence filter. The page works without them.

/// Runs first: any script error is counted on the root element, so a browser test can see it.
pub(super) const ERROR_TRAP: &str = "window.addEventListener('error',function(e){var r=document.documentElement;r.setAttribute('data-js-errors',String((+r.getAttribute('data-js-errors')||0)+1));r.setAttribute('data-js-error',String(e.message));});";

/// The hover read-out over the charts and the evidence filter; marks the page `data-js="ready"`.
pub(super) const SCRIPT: &str = r#"
(function(){
  var rates = JSON.parse(document.getElementById('rates').textContent || '[]');
  var readout = document.getElementById('readout');
  function fmt(v){ return (Math.round(v * 10) / 10).toString(); }
  Array.prototype.forEach.call(document.querySelectorAll('svg.chart'), function(svg){
    var guide = svg.querySelector('line.guide');
    var xMax = +svg.getAttribute('data-x-max'), left = +svg.getAttribute('data-left');
    var plotWidth = +svg.getAttribute('data-plot-width');
    svg.addEventListener('mousemove', function(event){
      var box = svg.getBoundingClientRect();
      var x = (event.clientX - box.left) * (svg.viewBox.baseVal.width / box.width);
      var t = (x - left) / plotWidth * xMax;
      var row = null;
      for (var i = 0; i < rates.length; i++) { if (t >= rates[i][0] && t <= rates[i][1]) { row = rates[i]; break; } }
      if (!row) { readout.hidden = true; guide.setAttribute('visibility', 'hidden'); return; }
      guide.setAttribute('x1', x); guide.setAttribute('x2', x); guide.setAttribute('visibility', 'visible');
      readout.textContent = fmt(row[0]) + '–' + fmt(row[1]) + ' s: ' + fmt(row[2]) + ' requests/s, ' + fmt(row[3]) + ' errors/s, ' + fmt(row[4]) + ' violations/s';
      readout.style.left = (event.clientX + 12) + 'px'; readout.style.top = (event.clientY + 12) + 'px';
      readout.hidden = false;
    });
    svg.addEventListener('mouseleave', function(){ readout.hidden = true; guide.setAttribute('visibility', 'hidden'); });
  });
  var filter = document.getElementById('filter');
  if (filter) {
    filter.addEventListener('click', function(event){
      var kind = event.target.getAttribute && event.target.getAttribute('data-kind');
      if (!kind) { return; }
      Array.prototype.forEach.call(filter.querySelectorAll('button'), function(b){ b.classList.toggle('on', b === event.target); });
      Array.prototype.forEach.call(document.querySelectorAll('details.finding'), function(d){
        d.hidden = kind !== 'all' && d.getAttribute('data-kind') !== kind;
      });
    });
  }
  document.documentElement.setAttribute('data-js', 'ready');
  document.documentElement.setAttribute('data-rates', String(rates.length));
})();
"#;
