/** The local Apigee API (the engine served over HTTP): see server.ts. */
export {startApiServer, redact, STATUS_PATH, type ApiServer, type ApiServerOptions} from './server.js'
export {DEFAULT_LIMITS, type BodyLimits} from './bodies.js'
export {httpStatusOf, toGoogleError, HttpError, type GoogleError} from './http-errors.js'
export * from './instance.js'
