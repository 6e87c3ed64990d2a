// The package's public face (`import { OmniTensor } from 'omnitensor'`): the SDK, and beside it any other
// part meant for users of the installed package (the data issue's Validator goes here too, from its folder).
export * from './sdk/index.js';
