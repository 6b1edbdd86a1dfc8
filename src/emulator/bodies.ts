import * as fs from 'node:fs'
import type {IncomingMessage} from 'node:http'

import {badRequest, HttpError, payloadTooLarge, unsupportedMediaType} from './http-errors.js'

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

/**
 * Reads the whole body, at most `limit` bytes. A body past the limit is refused as soon as it
 * passes it (nothing more is kept); the server then answers 413 and closes the connection.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  checkDeclaredLength(req, limit)
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let total = 0
    const onData = (chunk: Buffer) => {
      total += chunk.length
      if (total > limit) {
        cleanup()
        reject(payloadTooLarge(limit))
      } else {
        chunks.push(chunk)
      }
    }
    const onEnd = () => {
      const body = Buffer.concat(chunks, total)
      cleanup()
      resolve(body)
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
      chunks.length = 0
    }
    req.on('data', onData)
    req.on('end', onEnd)
    req.on('error', onError)
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
  let stop = () => {}
  const fail = (error: Error) => {
    failure ??= error
    // Past a size limit nothing more is read: the server answers 413 and closes the connection.
    if (error instanceof HttpError && error.httpStatus === 413) stop()
  }
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
  // Every byte of the body counts, boundaries and parts busboy skips included.
  let raw = 0
  await new Promise<void>((resolve) => {
    let settled = false
    const done = () => {
      if (settled) return
      settled = true
      req.off('data', count)
      resolve()
    }
    const count = (chunk: Buffer) => {
      raw += chunk.length
      if (raw > limit) fail(payloadTooLarge(limit))
    }
    stop = () => {
      req.unpipe(parser)
      parser.destroy()
      done()
    }
    req.on('data', count)
    req.once('error', (error: Error) => {
      fail(badRequest(`Invalid multipart body: ${error.message}.`))
      done()
    })
    parser.once('error', (error: Error) => {
      fail(badRequest(`Invalid multipart body: ${error.message}.`))
      stop()
    })
    parser.once('finish', done)
    parser.once('close', done)
    req.pipe(parser)
  })
  // A part cut short by a refusal never closes: the refusal is the answer.
  if (failure) throw failure
  await Promise.all(pending)
  if (failure) throw failure
  return form
}

/**
 * Streams a raw body to a file (mode 0600, created anew), never holding more than a chunk or
 * two in memory, and refuses it as soon as it passes `limit` bytes (the file is removed).
 */
export async function readToFile(req: IncomingMessage, file: string, limit: number): Promise<number> {
  checkDeclaredLength(req, limit)
  fs.rmSync(file, {force: true})
  const out = fs.createWriteStream(file, {mode: 0o600, flags: 'wx'})
  let total = 0
  try {
    await new Promise<void>((resolve, reject) => {
      let failed = false
      const fail = (error: Error) => {
        if (failed) return
        failed = true
        req.off('data', onData)
        req.off('end', onEnd)
        out.destroy()
        reject(error)
      }
      const onData = (chunk: Buffer) => {
        total += chunk.length
        if (total > limit) return fail(payloadTooLarge(limit))
        if (!out.write(chunk)) {
          req.pause()
          out.once('drain', () => req.resume())
        }
      }
      const onEnd = () => out.end()
      req.on('data', onData)
      req.on('end', onEnd)
      req.once('error', fail)
      req.once('aborted', () => fail(badRequest('The upload was interrupted.')))
      out.once('error', fail)
      out.once('finish', () => {
        if (!failed) resolve()
      })
    })
  } catch (error) {
    fs.rmSync(file, {force: true})
    throw error
  }
  return total
}
