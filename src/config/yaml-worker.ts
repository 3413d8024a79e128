// The worker behind readYamlOffThread: reads and parses one file, posts the
// plain data back (structured clone) and ends.
import { parentPort, workerData } from 'node:worker_threads';
import { readYaml } from './read-yaml.ts';

parentPort?.postMessage(readYaml((workerData as { file: string }).file));
