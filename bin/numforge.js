#!/usr/bin/env node
// The CLI is TypeScript run through tsx's loader, so the installed package and the
// repository execute the same sources with no build step in between.
import { register } from "tsx/esm/api";

register();
await import("../src/cli/main.ts");
