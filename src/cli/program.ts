/**
 * The command line: every command, flag and alias, with each command's code
 * loaded only when it runs. Results go to stdout, everything else to stderr.
 */
import { Argument, Command, Option } from 'commander';
import { spoonVersion } from '../core/labels.js';
import { addGlobalSettingFlags, addSettingFlags } from './settings.js';
import { buildContext, type GlobalFlags } from './context.js';
import type { Context } from '../core/context.js';

export type ExitSink = (code: number) => void;

export function buildProgram(setExit: ExitSink): Command {
  const program = new Command('spoon');
  program
    .description('Disposable, shareable development environments in a container, one command away.')
    .usage('[options] NAME | COMMAND ...')
    .version(spoonVersion, '-V, --version', 'print the version')
    .option('--engine <url>', 'engine endpoint: unix:///path.sock, tcp://host:port or ssh://[user@]host[:port] (default: $DOCKER_HOST or the local socket)')
    .addOption(new Option('--url <url>', "docker-spoon's name for --engine").hideHelp())
    .option('--config <file>', 'read this TOML config file after the user and project files')
    .option('-v, --verbose', 'print phase timings')
    .option('--debug', 'print engine requests and ssh command lines')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      outputError: (text, write) => write(`spoon: ${text.replace(/^error: /, '').trimEnd()}\nhint: see \`spoon --help\`\n`),
    })
    .addHelpText(
      'after',
      `
Examples:
  spoon demo                  create/start env "demo" and attach to its tmux session
  spoon up demo -N            only make it ready
  spoon exec demo -- make     run a command in it
  spoon destroy demo          remove the container, keep the home volume

docker-spoon's flags still work: -l (list), -d NAME (destroy), -n NAME (ports),
--kill NAME (stop), --restart NAME, --list-images, --nologin, --url.`,
    );

  addGlobalSettingFlags(program);

  /** Wraps a command's action: global flags → Context, lazy import, exit code. */
  const run =
    <A extends unknown[]>(load: () => Promise<(ctx: Context, ...args: A) => Promise<number>>) =>
    async (...args: unknown[]) => {
      const cmd = args[args.length - 1] as Command;
      const globals = cmd.optsWithGlobals<GlobalFlags & { url?: string }>();
      const ctx = buildContext({ ...globals, engine: globals.engine ?? globals.url });
      const fn = await load();
      // Commands see their own flags together with the global ones (--config, --engine).
      const params = args.slice(0, -1);
      if (params.length > 0 && typeof params[params.length - 1] === 'object') params[params.length - 1] = globals;
      setExit(await fn(ctx, ...(params as A)));
    };

  addSettingFlags(
    program
      .command('up', { isDefault: true })
      .description('create the env if missing, start it if stopped, and attach to its tmux session')
      .argument('<NAME>', 'environment name')
      .option('-N, --no-attach', 'stop once the env is ready, without attaching')
      .option('--yes', 'if the env is broken, recreate its container without asking (its volumes are kept)')
      .option('--from <NAME:TAG>', 'create the env from a snapshot: its image, and its volumes as they were (see `spoon snapshot`)')
      .addOption(new Option('--nologin', "docker-spoon's name for --no-attach").hideHelp()),
    true,
  ).action(run(async () => (await import('./commands/up.js')).upCommand));

  addSettingFlags(
    program
      .command('exec')
      .description('run a command in the env (creating or starting it if needed); exits with its status')
      .argument('<NAME>', 'environment name')
      .argument('<CMD...>', 'the command and its arguments, passed exactly as given')
      .usage('[options] NAME [--] CMD...')
      .option('--yes', 'if the env is broken, recreate its container without asking (its volumes are kept)'),
    false,
  ).action(run(async () => (await import('./commands/exec.js')).execCommand));

  program
    .command('list')
    .alias('ls')
    .description('list environments')
    .option('--json', 'print JSON')
    .option('-q, --quiet', 'print only the names, one per line')
    .action(run(async () => (await import('./commands/list.js')).listCommand));

  program
    .command('ports')
    .description('published ports of an env')
    .argument('<NAME>', 'environment name')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/ports.js')).portsCommand));

  program
    .command('stop')
    .description('stop an env; nothing is deleted')
    .argument('<NAME>', 'environment name')
    .option('-f, --force', 'stop it even while others are attached, without asking')
    .action(run(async () => (await import('./commands/lifecycle.js')).stopCommand));

  program
    .command('restart')
    .description('restart an env')
    .argument('<NAME>', 'environment name')
    .action(run(async () => (await import('./commands/lifecycle.js')).restartCommand));

  program
    .command('destroy')
    .alias('rm')
    .description('remove an env; its volumes (the home) are kept unless --volumes')
    .argument('<NAME>', 'environment name')
    .option('-f, --force', 'do not ask for confirmation (also while others are attached)')
    .addOption(new Option('-y, --yes', 'same as --force').hideHelp())
    .option('--volumes', 'also remove the env\'s volumes (its home): the data is gone')
    .action(run(async () => (await import('./commands/lifecycle.js')).destroyCommand));

  program
    .command('build')
    .description('build an image: DIR (default: builddir), after the prebuild commands; with neither, spoon\'s default image')
    .argument('[DIR]', 'folder with a Dockerfile')
    .option('-t, --tag <tag>', 'tag for the image (default: the configured image name, else one derived from DIR)')
    .action(run(async () => (await import('./commands/build.js')).buildCommand));

  program
    .command('images')
    .description('images spoon built or its envs use')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/images.js')).imagesCommand));

  const config = program
    .command('config')
    .description('print the effective configuration and where each value came from')
    .argument('[NAME]', 'environment name, to include its [env.NAME] settings')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/config.js')).configCommand));
  config
    .command('import')
    .description("convert docker-spoon's ~/.spoonrc to spoon TOML (printed on stdout)")
    .argument('<FILE>', 'the .spoonrc to convert')
    .action(run(async () => (await import('./commands/config.js')).configImportCommand));

  const snapshot = program
    .command('snapshot')
    .description('point-in-time copy of an env: its container committed to an image, each persist volume copied')
    .argument('<NAME>', 'environment name')
    .argument('[TAG]', 'snapshot tag (default: the UTC time, e.g. 20261123-205412)')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/snapshot.js')).snapshotCommand));
  snapshot
    .command('rm')
    .description("remove a snapshot: its image and its volumes")
    .argument('<NAME:TAG>', 'the snapshot')
    .action(run(async () => (await import('./commands/snapshot.js')).snapshotRmCommand));

  program
    .command('snapshots')
    .description('list snapshots (of NAME)')
    .argument('[NAME]', 'only the snapshots of this env')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/snapshot.js')).snapshotsCommand));

  const pool = program
    .command('pool')
    .description('the warm pool (config key pool = N): envs made ahead of time that a new env claims; lists its members')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/pool.js')).poolCommand));
  pool
    .command('fill')
    .description("make the pool's missing members for this configuration now, discarding bad ones, and wait")
    .addOption(new Option('--background', 'the refill a claim starts: no output but its log, and none if another fill is at work').hideHelp())
    .addOption(new Option('--plan-file <file>', 'fill for the plan in this file (written by the claim)').hideHelp())
    .action(run(async () => (await import('./commands/pool.js')).poolFillCommand));
  pool
    .command('drain')
    .description('remove your waiting pool members (of every configuration) and their volumes; claimed envs stay')
    .action(run(async () => (await import('./commands/pool.js')).poolDrainCommand));

  program
    .command('share')
    .description("let a guest without engine access into the env's tmux session; prints the ssh command to send them. Without --key: change an existing guest's access. With --web: serve a read-only live view to browsers and print its URL")
    .argument('<NAME>', 'environment name')
    .option('--web', 'serve a read-only live view of the session on a local web server until Ctrl-C, --for, or `spoon unshare NAME web`; prints its URL (with a secret token)')
    .option('--port <port>', 'with --web: the port to serve on (default: a free one; the address is the listen setting, 127.0.0.1)')
    .option('--key <file>', "the guest's OpenSSH public key (.pub); sharing again with a guest's name updates them")
    .option('--as <guest>', 'a name for the guest (a-z 0-9 -); default: from the key\'s comment (alice@laptop) or file name (alice.pub)')
    .option('--read-only', 'the guest watches; their keystrokes never reach the session')
    .option('--read-write', 'the guest types too (the default for a new guest): they can do all the env user can')
    .option('--for <duration>', 'end the guest\'s access (or the web view) by itself after this long: 30m, 2h, 1d, 1h30m')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/pairing.js')).shareCommand));

  program
    .command('unshare')
    .description('revoke a guest at once and disconnect them; `web` ends the web view (share --web) and every browser watching')
    .argument('<NAME>', 'environment name')
    .argument('<GUEST>', 'the guest name given to share --as, or web')
    .action(run(async () => (await import('./commands/pairing.js')).unshareCommand));

  program
    .command('who')
    .description("who is attached to the env's tmux session (owner, members, guests), or with --log its audit log")
    .argument('<NAME>', 'environment name')
    .option('--log', 'the audit log: joins, leaves, shares, role changes, unshares and expiries (UTC)')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/pairing.js')).whoCommand));

  program
    .command('record')
    .description("record the env's shared session as an asciinema v2 .cast until Ctrl-C (or the session ends), with markers for joins, leaves and role changes; by default in the env's home (~/recordings), which survives destroy")
    .argument('<NAME>', 'environment name')
    .option('--out <file>', 'write the recording to this new local file instead')
    .action(run(async () => (await import('./commands/record.js')).recordCommand));

  program
    .command('replay')
    .description('play an asciinema v2 recording (.cast) in this terminal with its original timing; with --web, in a browser instead: serves a player page and prints its URL')
    .argument('<FILE>', 'a local .cast file, or NAME:PATH for one in env NAME (PATH relative to its home)')
    .option('--speed <x>', 'play this many times faster (0.5: slower; default: 1)')
    .option('--idle-limit <seconds>', 'shorten every pause longer than this (default: the recording\'s idle_time_limit, else none)')
    .option('--web', 'serve a page that plays it (play/pause, restart, its markers to jump to) on a local web server until Ctrl-C or --for; prints its URL (with a secret token)')
    .option('--port <port>', 'with --web: the port to serve on (default: a free one; the address is the listen setting, 127.0.0.1)')
    .option('--for <duration>', 'with --web: stop serving by itself after this long: 30m, 2h, 1d')
    .option('--json', 'with --web: print JSON ({"url", "file"})')
    .action(run(async () => (await import('./commands/record.js')).replayCommand));

  program
    .command('ui')
    .description('serve a read-only dashboard of every env (state, image, ports, who is attached, idle time, a live view of each) until Ctrl-C; prints its URL')
    .option('--port <port>', 'the port to serve on (default: a free one; the address is the listen setting, 127.0.0.1)')
    .option('--for <duration>', 'stop serving by itself after this long: 30m, 2h, 1d')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/web.js')).uiCommand));

  program
    .command('forward')
    .description('forward local ports to the env over ssh until Ctrl-C: 3000 or 8080:80')
    .argument('<NAME>', 'environment name')
    .argument('<SPEC...>', 'PORT (the same port on both ends) or LOCAL:REMOTE')
    .action(run(async () => (await import('./commands/forward.js')).forwardCommand));

  program
    .command('ssh-config')
    .description('print OpenSSH Host blocks (Host spoon-NAME) so ssh, scp, rsync and IDEs reach envs')
    .argument('[NAME]', 'only this env')
    .option('--write', 'write them to $XDG_STATE_HOME/spoon/ssh_config, to Include from ~/.ssh/config')
    .action(run(async () => (await import('./commands/ssh-config.js')).sshConfigCommand));

  program
    .command('proxy', { hidden: true })
    .description('join stdin/stdout to an env\'s sshd (the ProxyCommand of ssh-config)')
    .argument('<NAME>', 'environment name')
    .action(run(async () => (await import('./commands/ssh-config.js')).proxyCommand));

  program
    .command('doctor')
    .description('check the engine, the ssh client, keys and the default image')
    .option('--json', 'print JSON')
    .action(run(async () => (await import('./commands/doctor.js')).doctorCommand));

  program
    .command('completion')
    .description('print a shell completion script: source <(spoon completion bash)')
    .addArgument(new Argument('<SHELL>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .action(run(async () => (await import('./commands/completion.js')).completionCommand));

  return program;
}
