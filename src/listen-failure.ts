// Why the broker could not listen, in one line saying what to do: a raw
// EADDRINUSE stack tells a sysadmin neither which port nor the way out.
export function listenFailure(error: NodeJS.ErrnoException, host: string, port: number): string {
  const where = `${host}:${port}`;
  switch (error.code) {
    case 'EADDRINUSE':
      return `port ${port} on ${host} is already in use (EADDRINUSE): stop the program listening there (\`ss -ltnp 'sport = :${port}'\` names it) or choose another port with \`port:\` in the configuration or PORT`;
    case 'EACCES':
      return `not allowed to listen on ${where} (EACCES): ports below 1024 need privileges; listen on a higher port behind a reverse proxy (deploy/nginx.conf)`;
    case 'EADDRNOTAVAIL':
      return `${JSON.stringify(host)} is not an address of this machine (EADDRNOTAVAIL): fix \`host:\` in the configuration (127.0.0.1, 0.0.0.0 or one of its addresses)`;
    default:
      return `cannot listen on ${where}: ${error.code ?? error.message}`;
  }
}
