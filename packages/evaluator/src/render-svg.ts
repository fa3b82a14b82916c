import type { TopLevelSpec } from 'vega-lite';

/**
 * A Vega-Lite spec drawn to a standalone SVG string in Node: no browser, no canvas (the
 * headless 'none' renderer estimates text widths). Fonts are set so every viewer picks a
 * sans-serif it has.
 */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // Loaded on first use: vega is large, and scoring alone (eval.json) does not need it.
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const withDefaults: TopLevelSpec = {
    background: 'white',
    padding: 12,
    ...spec,
    config: { font: 'Helvetica, Arial, sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, ...spec.config },
  };
  const view = new View(parse(compile(withDefaults).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
