// Writes (or with --check, verifies) one API report per entry point of every published package:
// packages/<folder>/api/<entry>.api.md, from the declarations `tsc -b` wrote to dist/.
// Run: npm run api (regenerates), npm run api -- --check (CI: fails when a report is out of date).
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import {
  Extractor,
  ExtractorConfig,
  ExtractorLogLevel,
  type ExtractorMessage,
} from '@microsoft/api-extractor';
import { type EntryPoint, type PublicPackage, publicPackages, repositoryRoot } from './public-packages.js';

const check = process.argv.includes('--check');

/** The report's base name: `index` for `.`, else the subpath with `/` as `-` (`./internal` → `internal`). */
function reportName(entry: EntryPoint): string {
  return entry.subpath === '.' ? 'index' : entry.subpath.slice(2).replaceAll('/', '-');
}

function extract(pkg: PublicPackage, entry: EntryPoint, temporaryFolder: string): boolean {
  const entryFile = join(pkg.directory, entry.types);
  if (!existsSync(entryFile)) {
    console.error(
      `${entry.specifier}: ${relative(repositoryRoot, entryFile)} is missing. Run \`npm run build\` first.`,
    );
    return false;
  }
  const reportFolder = join(pkg.directory, 'api');
  mkdirSync(reportFolder, { recursive: true });
  const config = ExtractorConfig.prepare({
    configObject: {
      projectFolder: pkg.directory,
      mainEntryPointFilePath: entryFile,
      compiler: {
        overrideTsconfig: {
          compilerOptions: {
            target: 'es2022',
            lib: ['es2023'],
            module: 'nodenext',
            moduleResolution: 'nodenext',
            types: ['node'],
            strict: true,
            exactOptionalPropertyTypes: true,
            skipLibCheck: true,
          },
          files: [entryFile],
        },
      },
      newlineKind: 'lf',
      apiReport: {
        enabled: true,
        reportFolder,
        reportTempFolder: temporaryFolder,
        reportFileName: `${reportName(entry)}.api.md`,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // The reports track the shape of the API; TSDoc style and release tags are not checked here.
        tsdocMessageReporting: { default: { logLevel: ExtractorLogLevel.None } },
        // Undocumented items are still marked `(undocumented)` inline; the footer list would carry line numbers
        // that change with every unrelated edit.
        extractorMessageReporting: {
          default: { logLevel: ExtractorLogLevel.Warning, addToApiReportFile: true },
          'ae-missing-release-tag': { logLevel: ExtractorLogLevel.None },
          'ae-undocumented': { logLevel: ExtractorLogLevel.None },
          'ae-unresolved-link': { logLevel: ExtractorLogLevel.None },
          'ae-forgotten-export': { logLevel: ExtractorLogLevel.None, addToApiReportFile: true },
        },
      },
    },
    configObjectFullPath: join(pkg.directory, 'api-extractor.json'),
    packageJsonFullPath: join(pkg.directory, 'package.json'),
  });
  const messages: string[] = [];
  const result = Extractor.invoke(config, {
    localBuild: !check,
    messageCallback(message: ExtractorMessage) {
      message.handled = true;
      if (message.logLevel === ExtractorLogLevel.Error || message.logLevel === ExtractorLogLevel.Warning) {
        messages.push(`  ${message.logLevel}: ${message.formatMessageWithLocation(repositoryRoot)}`);
      }
    },
  });
  const report = relative(repositoryRoot, join(reportFolder, `${reportName(entry)}.api.md`));
  if (check && result.apiReportChanged) {
    console.error(
      `${entry.specifier}: the public API differs from ${report}. If the change is intended, run \`npm run api\` and commit the report.`,
    );
    return false;
  }
  if (result.errorCount > 0) {
    console.error(`${entry.specifier}: API Extractor failed.\n${messages.join('\n')}`);
    return false;
  }
  console.log(`${entry.specifier}: ${check ? 'matches' : 'wrote'} ${report}`);
  return true;
}

const temporaryFolder = mkdtempSync(join(tmpdir(), 'userplug-api-'));
let failed = 0;
try {
  for (const pkg of publicPackages()) {
    const expected = new Set(pkg.entryPoints.map((entry) => `${reportName(entry)}.api.md`));
    for (const entry of pkg.entryPoints) if (!extract(pkg, entry, temporaryFolder)) failed++;
    // A report of an entry point that no longer exists is stale.
    const folder = join(pkg.directory, 'api');
    for (const file of existsSync(folder) ? readdirSync(folder) : []) {
      if (!file.endsWith('.api.md') || expected.has(file)) continue;
      if (check) {
        console.error(
          `${relative(repositoryRoot, join(folder, file))} reports no entry point of ${pkg.manifest.name}: run \`npm run api\`.`,
        );
        failed++;
      } else rmSync(join(folder, file));
    }
  }
} finally {
  rmSync(temporaryFolder, { recursive: true, force: true });
}
if (failed > 0) {
  console.error(`${failed} API report problem(s).`);
  process.exitCode = 1;
}
