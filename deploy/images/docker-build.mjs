// One image from a context folder, through the Engine API (the legacy builder: it needs no
// buildx plugin); `options` are the API's (t, target, buildargs, ...).
import tar from 'tar-fs';

/** Resolves once built; rejects with the builder's own message. `log` gets each step. */
export async function buildImage(docker, dir, options, log = () => {}) {
  const stream = await docker.buildImage(tar.pack(dir), { rm: true, forcerm: true, ...options });
  await new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err, output) => {
        const failed = err ?? output.find((event) => event.error);
        if (failed) reject(new Error(`docker build of ${options.t} failed: ${failed.error ?? failed.message}`));
        else resolve();
      },
      (event) => {
        if (event.stream?.startsWith('Step ')) log(`${options.t}: ${event.stream.trim()}`);
      },
    );
  });
}
