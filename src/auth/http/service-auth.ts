// How a broker proves itself to an ILS API, whatever the scheme: a header
// per request, and what to do when the API answers 401. A cached bearer
// token may have been revoked or expired early: drop it and try once more
// with a fresh one. A fixed header (Basic, an API key) will not get better.
import { type IlsClient, type IlsRequest, type IlsResponse, IlsUnavailable } from './ils-client.ts';

export interface ServiceAuth {
  header(): Promise<Record<string, string>>;
  // After a 401 with these headers: true when asking again may help.
  refused(headers: Record<string, string>): boolean;
  // For messages: "basic auth as \"patronym\"", "OAuth2 client \"x\"".
  describe: string;
}

export async function sendAuthorized(client: IlsClient, auth: ServiceAuth, request: IlsRequest): Promise<IlsResponse> {
  for (let attempt = 0; ; attempt++) {
    const headers = await auth.header();
    const response = await client.request({ ...request, headers: { ...request.headers, ...headers } });
    if (response.status !== 401) return response;
    if (attempt > 0 || !auth.refused(headers))
      throw new IlsUnavailable(
        `${client.where(request.label)}: HTTP 401: the API refused the broker's ${auth.describe} (check the service credentials)`,
      );
  }
}
