#!/usr/bin/env node
import { launchBin } from '@userplug/cli-kit/launch-bin';

await launchBin(new URL('..', import.meta.url));
