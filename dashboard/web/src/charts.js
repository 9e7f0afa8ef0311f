// charts.js draws every chart on a page. The server puts each chart's
// ECharts options in a <script type="application/json" id="ID-options"> block
// beside a <div data-chart="ID">; this script only reads that JSON, so no
// inline script is needed and uploaded text is never evaluated.
import * as echarts from 'echarts/core';
import {
  BarChart, LineChart, HeatmapChart, TreemapChart, SunburstChart,
  GraphChart, SankeyChart, ScatterChart,
} from 'echarts/charts';
import {
  AriaComponent, TooltipComponent, LegendComponent, GridComponent,
  VisualMapComponent, TitleComponent, DataZoomComponent, MarkLineComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  BarChart, LineChart, HeatmapChart, TreemapChart, SunburstChart,
  GraphChart, SankeyChart, ScatterChart,
  AriaComponent, TooltipComponent, LegendComponent, GridComponent,
  VisualMapComponent, TitleComponent, DataZoomComponent, MarkLineComponent,
  CanvasRenderer,
]);

// state is read by the browser tests: each chart's instance and when the
// first chart finished drawing, in performance.now() milliseconds.
const state = { charts: {}, firstChartMs: null, errors: [] };
window.collate = state;

// readBlock returns {options, drill}: the ECharts options and, for
// click-through, the page each data name leads to.
function readBlock(id) {
  const block = document.getElementById(id + '-options');
  if (!block) {
    throw new Error('no options block for chart ' + id);
  }
  return JSON.parse(block.textContent);
}

function drillHref(drill, params) {
  // Targets are looked up by the clicked item's name and resolved against
  // this page, so a click can never leave the origin.
  if (!drill || !params || typeof params.name !== 'string') {
    return null;
  }
  const target = drill[params.name];
  if (typeof target !== 'string' || target === '') {
    return null;
  }
  const url = new URL(target, window.location.href);
  if (url.origin !== window.location.origin) {
    return null;
  }
  return url.href;
}

function draw(el) {
  const id = el.dataset.chart;
  const { options, drill } = readBlock(id);
  const chart = echarts.init(el, null, { renderer: 'canvas' });
  chart.on('finished', () => {
    if (state.firstChartMs === null) {
      state.firstChartMs = performance.now();
    }
    el.dataset.drawn = 'true';
  });
  chart.on('click', (params) => {
    const href = drillHref(drill, params);
    if (href) {
      window.location.assign(href);
    }
  });
  chart.setOption(options);
  state.charts[id] = chart;
  return chart;
}

function downloadPNG(id) {
  const chart = state.charts[id];
  if (!chart) {
    return;
  }
  const a = document.createElement('a');
  a.href = chart.getDataURL({ type: 'png', pixelRatio: 2, backgroundColor: '#ffffff' });
  a.download = id + '.png';
  document.body.appendChild(a);
  a.click();
  a.remove();
}

function start() {
  for (const el of document.querySelectorAll('[data-chart]')) {
    try {
      draw(el);
    } catch (err) {
      state.errors.push(String(err));
      el.textContent = 'This chart could not be drawn; the table below has the same numbers.';
    }
  }
  for (const button of document.querySelectorAll('button[data-png]')) {
    button.hidden = false;
    button.addEventListener('click', () => downloadPNG(button.dataset.png));
  }
  let resizeTimer = 0;
  window.addEventListener('resize', () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      for (const chart of Object.values(state.charts)) {
        chart.resize();
      }
    }, 100);
  });
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', start);
} else {
  start();
}
