// Opening a SIP2 session: connect, the optional 93 login, the optional 99
// SC status. A refused login is a configuration error for the sysadmin,
// never a patron's wrong PIN.
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

export async function openSession(
  endpoint: Endpoint,
  settings: ExchangeSettings,
  setup: { login?: Login; scStatus: boolean },
): Promise<Sip2Connection> {
  const connection = await Sip2Connection.open(endpoint, settings);
  try {
    if (setup.login) await login(connection, setup.login);
    if (setup.scStatus) await scStatus(connection);
    return connection;
  } catch (error) {
    connection.destroy();
    throw error;
  }
}
