// Opening a SIP2 session: connect, the optional 93 login, the optional 99
// SC status. A refused login is a configuration error for the sysadmin,
// never a patron's wrong PIN.
//
// A 96 to the 93 is answered on a new connection: Evergreen closes the
// connection right after it, so a resend would go into a closed socket.
import { type Endpoint, type ExchangeSettings, Sip2Connection, Sip2Failure } from './connection.ts';
import { type AcsStatus, loginRequest, readAcsStatus, scStatusRequest } from './requests.ts';

export interface Login {
  user: string;
  password: string;
  location?: string;
}

export async function login(connection: Sip2Connection, credentials: Login): Promise<void> {
  const reply = await connection.exchange(
    loginRequest(credentials.user, credentials.password, credentials.location),
    '94',
    { resendOn96: false },
  );
  if (reply.fixed !== '1') {
    connection.destroy();
    throw new Sip2Failure(
      'login',
      connection.endpoint,
      `login as "${credentials.user}" refused (94 ${JSON.stringify(reply.fixed)}): check login.user and login.password`,
    );
  }
}

export async function scStatus(connection: Sip2Connection): Promise<AcsStatus> {
  const status = readAcsStatus(await connection.exchange(scStatusRequest(), '98'));
  if (!status.online) {
    connection.destroy();
    throw new Sip2Failure('protocol', connection.endpoint, 'server reports it is off-line (98)');
  }
  return status;
}

// A server that wants a login closes the connection on anything else
// (Evergreen, SIP2.md): say so when none is configured.
export function withLoginHint(error: unknown, login: Login | undefined, endpoint: Endpoint): unknown {
  if (login || !(error instanceof Sip2Failure) || error.kind !== 'closed') return error;
  return new Sip2Failure(
    'closed',
    endpoint,
    `${error.what} (no login is configured: does the server want a 93 login first?)`,
  );
}

export async function openSession(
  endpoint: Endpoint,
  settings: ExchangeSettings,
  setup: { login?: Login; scStatus: boolean },
): Promise<Sip2Connection> {
  for (let attempt = 0; ; attempt++) {
    const connection = await Sip2Connection.open(endpoint, settings);
    try {
      if (setup.login) await login(connection, setup.login);
      if (setup.scStatus) await scStatus(connection);
      return connection;
    } catch (error) {
      connection.destroy();
      const again = error instanceof Sip2Failure && error.kind === 'resend' && attempt < settings.retries;
      if (!again) {
        throw error instanceof Sip2Failure && error.kind === 'resend'
          ? new Sip2Failure(
              'protocol',
              endpoint,
              attempt === 0 ? error.what : `${error.what} on each of ${attempt + 1} connections`,
            )
          : withLoginHint(error, setup.login, endpoint);
      }
    }
  }
}
