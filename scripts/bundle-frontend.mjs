// Bundles one frontend/ entry with esbuild (as `esbuild --bundle --minify --format=iife`), patching
// what the pages' Content-Security-Policy (style-src 'self') would refuse: the properties panel
// builds its containers from HTML carrying style attributes, which the browser blocks (and reports
// as console errors). The same rules are in static/console/modeler.css; a build fails if a patch
// no longer applies, so an upgrade of the panel is looked at.
//   node scripts/bundle-frontend.mjs frontend/modeler.js static/vendor/bpmn-js/modeler.js
import { readFile } from "node:fs/promises";
import { build } from "esbuild";

const [entry, outfile] = process.argv.slice(2);

const PATCHES = [
  {
    file: /bpmn-js-properties-panel[\\/]dist[\\/]index\.esm\.js$/,
    replace: [
      ['<div style="height: 100%" tabindex="-1" class="bio-properties-panel-container">', '<div tabindex="-1" class="bio-properties-panel-container">'],
      ['<div style="flex: none; height: auto" class="bio-properties-panel ', '<div class="bio-properties-panel '],
    ],
  },
];

const withoutInlineStyles = {
  name: "without-inline-styles",
  setup(builder) {
    for (const patch of PATCHES) {
      builder.onLoad({ filter: patch.file }, async (args) => {
        let contents = await readFile(args.path, "utf8");
        for (const [from, to] of patch.replace) {
          if (!contents.includes(from)) throw new Error(`${args.path}: no longer contains ${from}`);
          contents = contents.split(from).join(to);
        }
        return { contents, loader: "js" };
      });
    }
  },
};

await build({
  entryPoints: [entry],
  outfile,
  bundle: true,
  minify: true,
  format: "iife",
  legalComments: "none",
  loader: { ".svg": "text" },
  logLevel: "warning",
  plugins: [withoutInlineStyles],
});
