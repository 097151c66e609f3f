import { describeHostContract } from './host-contract';
import { oidcSubject } from './subjects';

describeHostContract('the OpenID Connect host, with oidc-provider on loopback over TLS', oidcSubject);
