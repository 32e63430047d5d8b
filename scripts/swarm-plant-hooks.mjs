// Module loader hooks for `npm run swarm -- --plant NAME` (registered by scripts/swarm.mjs): the
// one compiled module named by the planted fault (src/testing/swarm/planted.ts) is changed as it
// loads; a plant whose text is not found exactly once stops the run instead of running unplanted.
let plant = null;

export function initialize(data) {
  plant = data;
}

export async function load(url, context, nextLoad) {
  const result = await nextLoad(url, context);
  if (plant === null || !url.endsWith(`/dist/${plant.module}.js`)) return result;
  const source = String(result.source);
  const at = source.indexOf(plant.find);
  if (at < 0 || source.indexOf(plant.find, at + 1) >= 0) {
    throw new Error(`planted fault: ${JSON.stringify(plant.find)} does not occur exactly once in ${url}`);
  }
  return { ...result, source: source.replace(plant.find, plant.replace) };
}
