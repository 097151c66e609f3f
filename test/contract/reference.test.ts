import { describeHostContract } from './host-contract';
import { referenceSubject } from './subjects';

describeHostContract('the reference host', referenceSubject);
