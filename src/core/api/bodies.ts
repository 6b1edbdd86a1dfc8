import * as fs from 'node:fs'
import type {IncomingMessage} from 'node:http'
import {Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'

import {badRequest, payloadTooLarge, unsupportedMediaType} from './http-errors.js'

/**
 * Request bodies: JSON, multipart forms (busboy) and raw uploads, each with a size limit
 * checked before anything is buffered (Content-Length) and while it streams (chunked bodies).
 */
export interface BodyLimits {
  /** JSON bodies (environments, keystores, references, self-signed aliases ...). */
  json: number
  /** Multipart alias uploads: certificates, keys, PKCS#12 files. */
  multipart: number
  /** Archive uploads (gcloud's limit: 1 GiB). */
  archive: number
}

export const DEFAULT_LIMITS: BodyLimits = {json: 1024 * 1024, multipart: 4 * 1024 * 1024, archive: 1024 ** 3}

/** The media type without parameters, lowercased: `application/json`. */
export function mediaType(req: IncomingMessage): string | undefined {
  const header = req.headers['content-type']
  if (header === undefined) return undefined
  return header.split(';')[0].trim().toLowerCase()
}

function declaredLength(req: IncomingMessage): number | undefined {
  const header = req.headers['content-length']
  if (header === undefined) return undefined
  const n = Number(header)
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined
}

/** Refuses at once a body whose declared length is over the limit. */
export function checkDeclaredLength(req: IncomingMessage, limit: number): void {
  const n = declaredLength(req)
  if (n !== undefined && n > limit) throw payloadTooLarge(limit)
}

/** Reads the whole body, at most `limit` bytes; a larger body is drained and refused. */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(req, limit)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    let over = false
    req.on('data', (chunk: Buffer) => {
      total += chunk.length
      if (total > limit) over = true
      if (!over) chunks.push(chunk)
    })
    req.on('end', () => (over ? reject(payloadTooLarge(limit)) : resolve(Buffer.concat(chunks))))
    req.on('error', reject)
  })
}

/** A JSON object body; an empty body is `{}`. */
export async function readJson(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  const body = await readBody(req, limit)
  if (body.length === 0) return {}
  const type = mediaType(req)
  if (type !== 'application/json') throw unsupportedMediaType(req.headers['content-type'], 'application/json')
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw badRequest(`Invalid JSON payload received. ${(error as Error).message}.`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw badRequest('Invalid JSON payload received. The body must be a JSON object.')
  }
  return parsed as Record<string, unknown>
}

export interface UploadedFile {
  data: Buffer
  /** The file name the client gave (`-F certFile=@my_gateway.pem` sends `my_gateway.pem`). */
  filename?: string
}

export interface MultipartForm {
  fields: Record<string, string>
  files: Record<string, UploadedFile>
}

/** A multipart/form-data body, parsed by busboy with limits on every part. */
export async function readMultipart(req: IncomingMessage, limit: number): Promise<MultipartForm> {
  if (mediaType(req) !== 'multipart/form-data') {
    throw unsupportedMediaType(req.headers['content-type'], 'multipart/form-data')
  }
  checkDeclaredLength(req, limit)
  const {default: busboy} = await import('busboy')
  let parser: ReturnType<typeof busboy>
  try {
    parser = busboy({headers: req.headers, limits: {fileSize: limit, files: 8, fields: 16, parts: 24, fieldSize: 64 * 1024}})
  } catch (error) {
    throw badRequest(`Invalid multipart body: ${(error as Error).message}.`)
  }
  const form: MultipartForm = {fields: {}, files: {}}
  let failure: Error | undefined
  const fail = (error: Error) => (failure ??= error)
  const pending: Promise<void>[] = []
  let total = 0
  parser.on('field', (name, value, info) => {
    if (info.valueTruncated) fail(payloadTooLarge(64 * 1024))
    if (name in form.fields || name in form.files) fail(badRequest(`Invalid multipart body: field "${name}" is given more than once.`))
    form.fields[name] = value
  })
  parser.on('file', (name, stream, info) => {
    pending.push(
      new Promise<void>((resolve) => {
        const chunks: Buffer[] = []
        stream.on('data', (chunk: Buffer) => {
          total += chunk.length
          if (total > limit) fail(payloadTooLarge(limit))
          else chunks.push(chunk)
        })
        stream.on('limit', () => fail(payloadTooLarge(limit)))
        stream.on('error', (error: Error) => {
          fail(badRequest(`Invalid multipart body: ${error.message}.`))
          resolve()
        })
        stream.on('close', () => {
          if (name in form.fields || name in form.files) fail(badRequest(`Invalid multipart body: field "${name}" is given more than once.`))
          form.files[name] = {data: Buffer.concat(chunks), ...(info.filename ? {filename: info.filename} : {})}
          resolve()
        })
      }),
    )
  })
  parser.on('partsLimit', () => fail(badRequest('Invalid multipart body: too many parts.')))
  parser.on('filesLimit', () => fail(badRequest('Invalid multipart body: too many files.')))
  parser.on('fieldsLimit', () => fail(badRequest('Invalid multipart body: too many fields.')))
  try {
    await pipeline(req, parser)
  } catch (error) {
    fail(badRequest(`Invalid multipart body: ${(error as Error).message}.`))
  }
  await Promise.all(pending)
  if (failure) throw failure
  return form
}

/** Streams a raw body to a file (mode 0600), refusing it past `limit` bytes. */
export async function readToFile(req: IncomingMessage, file: string, limit: number): Promise<number> {
  checkDeclaredLength(req, limit)
  let total = 0
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      total += chunk.length
      callback(total > limit ? payloadTooLarge(limit) : null, chunk)
    },
  })
  try {
    await pipeline(req, counter, fs.createWriteStream(file, {mode: 0o600}))
  } catch (error) {
    fs.rmSync(file, {force: true})
    // Drain what the client still sends, so the error response can be read.
    req.resume()
    throw error
  }
  return total
}
