/**
 * The image spoon builds on first use when nothing else is configured: Debian
 * bookworm with openssh-server, tmux, sudo and git, and a user `dev` with
 * passwordless sudo. Tagged by a hash of its build inputs, so it is rebuilt
 * only when they change.
 */
import { createHash } from 'node:crypto';

export const DEFAULT_IMAGE_REPO = 'spoon-default';

// `usermod -p '*'`: sshd without PAM refuses accounts whose password is locked ('!'),
// even for key logins; '*' means "no password" without locking the account.
// The image's own host keys are removed: spoon puts a per-env key in before start.
export const DEFAULT_DOCKERFILE = `FROM debian:bookworm
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      openssh-server tmux sudo git ca-certificates ncurses-term less procps \\
 && rm -rf /var/lib/apt/lists/* \\
 && rm -f /etc/ssh/ssh_host_* \\
 && mkdir -p /run/sshd \\
 && useradd --create-home --shell /bin/bash --uid 1000 --user-group dev \\
 && usermod -p '*' dev \\
 && echo 'dev ALL=(ALL) NOPASSWD:ALL' > /etc/sudoers.d/dev \\
 && chmod 0440 /etc/sudoers.d/dev
ENV LANG=C.UTF-8
CMD ["/usr/sbin/sshd", "-D", "-e"]
`;

export function defaultImageTag(): string {
  const hash = createHash('sha256').update(DEFAULT_DOCKERFILE).digest('hex').slice(0, 12);
  return `${DEFAULT_IMAGE_REPO}:${hash}`;
}
