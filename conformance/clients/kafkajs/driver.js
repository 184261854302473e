'use strict'
/*
 * kafkajs driver of the Chronik conformance suite: see conformance/SCENARIOS.md.
 *
 *   node driver.js --bootstrap HOST:PORT --prefix PREFIX --scenarios a,b,c
 *   node driver.js --client-version
 *
 * One JSON line per scenario on stdout, everything else (kafkajs logs) on stderr.
 * kafkajs can only consume through a consumer group: every consuming scenario uses the
 * group PREFIX.<scenario> and says so in facts.via_group.
 */

const fs = require('fs')
const {
  Kafka,
  logLevel,
  CompressionTypes,
  CompressionCodecs,
  ConfigResourceTypes,
  ConfigSource,
  Partitioners,
} = require('kafkajs')

const CLIENT = 'kafkajs'
const CLIENT_VERSION = require('kafkajs/package.json').version
const T0 = 1700000000000
const SCENARIO_TIMEOUT_MS = 60000

// ---------------------------------------------------------------------------------------------
// logging: stderr only

const LOG_LEVEL = (() => {
  const name = (process.env.KAFKAJS_DRIVER_LOG || 'ERROR').toUpperCase()
  return logLevel[name] !== undefined ? logLevel[name] : logLevel.ERROR
})()
const LEVEL_NAMES = Object.fromEntries(Object.entries(logLevel).map(([k, v]) => [v, k]))

const logCreator = () => ({ namespace, level, log }) => {
  const { message, timestamp, logger, ...extra } = log
  let rest = ''
  try {
    rest = JSON.stringify(extra)
  } catch (_) {
    rest = ''
  }
  process.stderr.write(`[kafkajs ${LEVEL_NAMES[level]} ${namespace}] ${message} ${rest}\n`)
}

function stderr(msg) {
  process.stderr.write(`[driver] ${msg}\n`)
}

function emit(obj) {
  // synchronous write: the line is on stdout before anything else happens
  fs.writeSync(1, JSON.stringify(obj) + '\n')
}

process.on('unhandledRejection', e => stderr(`unhandled rejection: ${describeError(e)}`))
process.on('uncaughtException', e => stderr(`uncaught exception: ${describeError(e)}`))

// ---------------------------------------------------------------------------------------------
// compression codecs (gzip is built in)

const codecErrors = {}

function registerCodecs() {
  try {
    CompressionCodecs[CompressionTypes.Snappy] = require('kafkajs-snappy')
  } catch (e) {
    codecErrors.snappy = `kafkajs-snappy failed to load: ${describeError(e)}`
  }
  try {
    const LZ4Codec = require('kafkajs-lz4')
    CompressionCodecs[CompressionTypes.LZ4] = new LZ4Codec().codec
  } catch (e) {
    codecErrors.lz4 = `kafkajs-lz4 failed to load: ${describeError(e)}`
  }
  try {
    // @kafkajs/zstd needs the native cppzst, which does not build on Node 20; zstd-codec is the
    // reference zstd compiled to JS/wasm (Emscripten), wrapped here in kafkajs's codec interface.
    const { ZstdCodec } = require('zstd-codec')
    let ready = null
    const zstd = () => {
      if (!ready) ready = new Promise(resolve => ZstdCodec.run(z => resolve(z)))
      return ready
    }
    CompressionCodecs[CompressionTypes.ZSTD] = () => ({
      async compress(encoder) {
        const z = await zstd()
        return Buffer.from(new z.Simple().compress(encoder.buffer, 3))
      },
      async decompress(buffer) {
        const z = await zstd()
        // Streaming handles frames without a content size (what streaming compressors write)
        const out = new z.Streaming().decompress(buffer)
        if (!out) throw new Error('zstd decompression failed')
        return Buffer.from(out)
      },
    })
  } catch (e) {
    codecErrors.zstd = `zstd-codec failed to load: ${describeError(e)}`
  }
}

// ---------------------------------------------------------------------------------------------
// errors and checks

class CheckFailed extends Error {}
class ScenarioTimeout extends Error {}
class Unsupported extends Error {}

function fmt(v) {
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 77) + '...' : v)
  try {
    const s = JSON.stringify(v)
    return s && s.length > 200 ? s.slice(0, 197) + '...' : s
  } catch (_) {
    return String(v)
  }
}

function check(ok, what, expected, actual) {
  if (!ok) throw new CheckFailed(`${what}: expected ${fmt(expected)}, got ${fmt(actual)}`)
}

function oneLine(s) {
  return String(s).replace(/\s+/g, ' ').trim()
}

/** The kafkajs error name(s), message and Kafka error type/code, following wrapped errors. */
function describeError(e, depth = 0) {
  if (e === null || e === undefined) return String(e)
  if (!(e instanceof Error) && typeof e !== 'object') return oneLine(e)
  let s = `${e.name || 'Error'}: ${oneLine(e.message || '')}`
  if (e.type !== undefined || e.code !== undefined) s += ` [Kafka ${e.type || '?'} code ${e.code}]`
  if (e.apiName !== undefined || e.apiKey !== undefined) s += ` [API ${e.apiName || '?'} key ${e.apiKey}]`
  if (depth > 4) return s
  const inner = []
  for (const key of ['originalError', 'cause']) {
    if (e[key] && e[key] !== e) inner.push(describeError(e[key], depth + 1))
  }
  if (Array.isArray(e.errors)) {
    for (const sub of e.errors.slice(0, 3)) inner.push(describeError(sub, depth + 1))
  }
  if (Array.isArray(e.partitions)) {
    for (const p of e.partitions.slice(0, 3)) {
      if (p && p.error) inner.push(`partition ${p.partition}: ${describeError(p.error, depth + 1)}`)
    }
  }
  if (inner.length) s += ` <- ${inner.join(' ; ')}`
  return s
}

/** The innermost Kafka protocol error (one with a numeric code) of a kafkajs error, if any. */
function kafkaError(e, depth = 0) {
  if (!e || typeof e !== 'object' || depth > 6) return null
  if (typeof e.code === 'number' && e.type) return e
  for (const key of ['originalError', 'cause']) {
    const found = kafkaError(e[key], depth + 1)
    if (found) return found
  }
  for (const sub of e.errors || []) {
    const found = kafkaError(sub, depth + 1)
    if (found) return found
  }
  return null
}

const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

function withTimeout(promise, ms, what) {
  let timer
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

// ---------------------------------------------------------------------------------------------
// standard records

function stdRecord(s, i) {
  return {
    key: `k${i}`,
    value: `${s}-v${i}-` + 'abcdefghij'.repeat(i % 10),
    headers: [
      ['i', String(i)],
      ['s', s],
    ],
    timestamp: String(T0 + i * 1000),
  }
}

function stdMessage(s, i, partition = 0) {
  const r = stdRecord(s, i)
  return {
    key: r.key,
    value: r.value,
    headers: Object.fromEntries(r.headers),
    timestamp: r.timestamp,
    partition,
  }
}

function range(a, b) {
  const out = []
  for (let i = a; i < b; i++) out.push(i)
  return out
}

/** A consumed kafkajs message as plain strings (header order kept). */
function plain(partition, message) {
  const headers = Object.entries(message.headers || {}).map(([k, v]) => [
    k,
    Array.isArray(v) ? v.map(x => (x === null ? null : x.toString())) : v === null ? null : v.toString(),
  ])
  return {
    partition,
    offset: message.offset,
    key: message.key === null ? null : message.key.toString(),
    value: message.value === null ? null : message.value.toString(),
    headers,
    timestamp: message.timestamp,
  }
}

/** Check that `got` equals the standard records `indices` of scenario `s` at `offsets`. */
function checkIdentical(what, got, s, indices, offsets) {
  check(got.length === indices.length, `${what}: record count`, indices.length, got.length)
  for (let j = 0; j < indices.length; j++) {
    const want = stdRecord(s, indices[j])
    const g = got[j]
    const where = `${what}: record #${j} (standard record ${indices[j]})`
    check(g.offset === String(offsets[j]), `${where} offset`, String(offsets[j]), g.offset)
    check(g.key === want.key, `${where} key`, want.key, g.key)
    check(g.value === want.value, `${where} value`, want.value, g.value)
    check(fmt(g.headers) === fmt(want.headers), `${where} headers`, want.headers, g.headers)
    check(g.timestamp === want.timestamp, `${where} timestamp`, want.timestamp, g.timestamp)
  }
}

// ---------------------------------------------------------------------------------------------
// per-scenario context: owns every client it makes and disconnects them all at the end

class Ctx {
  constructor(name, opts) {
    this.name = name
    this.bootstrap = opts.bootstrap
    this.prefix = opts.prefix
    this.topic = `${opts.prefix}.${name}`
    this.facts = {}
    this.skipped = []
    this.step = 'start'
    this.closers = []
    this.requests = new Map() // "ApiName vN" -> count
    this.lastRequest = null
    this.done = false
    this.security = opts.security
    this.kafka = this.makeKafka(opts.bootstrap, {})
  }

  makeKafka(bootstrap, extra) {
    return new Kafka({
      clientId: `conformance-kafkajs-${this.name}`,
      brokers: [bootstrap],
      // DEBUG so that errors kafkajs only logs (e.g. why FindCoordinator failed) reach the detail
      logLevel: logLevel.DEBUG,
      logCreator: this.logCreator.bind(this),
      connectionTimeout: 5000,
      requestTimeout: 30000,
      retry: { initialRetryTime: 200, maxRetryTime: 3000, retries: 6 },
      ...extra,
    })
  }

  /** The --security file; a security scenario without one fails. */
  secured() {
    if (!this.security) throw new CheckFailed('security scenario without --security FILE')
    return this.security
  }

  /** Kafka settings of a secured listener (SSL, SASL_PLAINTEXT, SASL_SSL), as `mechanism`'s user unless given
   *  (OAUTHBEARER: `password` is the token sent, by default the user's). */
  securedKafka(protocol, mechanism, user, password, extra = {}) {
    const sec = this.secured()
    const conf = { ...extra }
    if (protocol.endsWith('SSL')) {
      // verify the chain against the CA and the name (IP SAN) against the address (Node's default checks)
      conf.ssl = { ca: [fs.readFileSync(sec.ca_file, 'utf-8')], rejectUnauthorized: true }
    }
    if (mechanism === 'OAUTHBEARER') {
      const token = password !== undefined ? password : sec.users[mechanism].token
      conf.sasl = { mechanism: 'oauthbearer', oauthBearerProvider: async () => ({ value: token }) }
    } else if (mechanism) {
      const u = sec.users[mechanism]
      conf.sasl = {
        mechanism: mechanism.toLowerCase(),
        username: user !== undefined ? user : u.username,
        password: password !== undefined ? password : u.password,
      }
    }
    return this.makeKafka(sec[protocol.toLowerCase()], conf)
  }

  logCreator() {
    const print = logCreator()
    return entry => {
      const { log, level } = entry
      if (log && log.error && /group coordinator/i.test(log.message || '')) {
        this.hiddenError = `${log.message}: ${typeof log.error === 'string' ? log.error : describeError(log.error)}`
      }
      if (level <= LOG_LEVEL) print(entry)
    }
  }

  at(step) {
    this.step = step
  }

  track(client) {
    const onRequest = ({ payload }) => {
      const k = `${payload.apiName} v${payload.apiVersion}`
      this.requests.set(k, (this.requests.get(k) || 0) + 1)
      this.lastRequest = k
    }
    client.on(client.events.REQUEST, onRequest)
    client.on(client.events.REQUEST_TIMEOUT, ({ payload }) => {
      stderr(`${this.name}: request timeout ${payload.apiName} v${payload.apiVersion}`)
    })
  }

  async admin() {
    const admin = this.kafka.admin({ retry: { retries: 4, initialRetryTime: 200, maxRetryTime: 2000 } })
    this.track(admin)
    this.closers.push(() => admin.disconnect())
    await admin.connect()
    return admin
  }

  async producer(opts = {}) {
    const producer = this.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false, ...opts })
    this.track(producer)
    this.closers.push(() => producer.disconnect())
    await producer.connect()
    return producer
  }

  consumer(opts = {}) {
    const groupId = `${this.prefix}.${this.name}`
    const consumer = this.kafka.consumer({
      groupId,
      sessionTimeout: 10000,
      rebalanceTimeout: 10000,
      heartbeatInterval: 1000,
      maxWaitTimeInMs: 500,
      allowAutoTopicCreation: false,
      retry: {
        retries: 5,
        initialRetryTime: 300,
        maxRetryTime: 3000,
        // kafkajs recovers from retriable errors (e.g. GROUP_LOAD_IN_PROGRESS while the coordinator
        // loads after a restart) by restarting the consumer: allow that a few times
        restartOnFailure: async e => {
          this.consumerRestarts = (this.consumerRestarts || 0) + 1
          this.facts.consumer_restarts = this.consumerRestarts
          this.lastCrash = describeError(e)
          return !!e.retriable && this.consumerRestarts <= 4
        },
      },
      ...opts,
    })
    this.track(consumer)
    this.closers.push(() => consumer.disconnect())
    this.facts.via_group = groupId
    return consumer
  }

  async closeAll() {
    for (const close of this.closers.reverse()) {
      try {
        await withTimeout(close(), 8000, 'disconnect')
      } catch (e) {
        stderr(`${this.name}: disconnect: ${describeError(e)}`)
      }
    }
    this.closers = []
  }
}

// ---------------------------------------------------------------------------------------------
// shared building blocks

/** Produce standard records `indices` of scenario `s` to partition fn(i) in one send(); returns the send result. */
async function send(producer, topic, s, indices, { acks = -1, compression = CompressionTypes.None, partition = () => 0 } = {}) {
  return producer.send({
    topic,
    acks,
    compression,
    messages: indices.map(i => stdMessage(s, i, partition(i))),
  })
}

function baseOffset(result, partition = 0) {
  const r = (result || []).find(x => x.partition === partition)
  return r ? String(r.baseOffset) : undefined
}

/**
 * Consume `topic` through the group PREFIX.<scenario> until `enough(byPartition)` holds, then for
 * `settleMs` more (to see that nothing else arrives). Returns Map partition -> [plain records].
 *   fromBeginning: reset policy earliest (true) or latest (false)
 *   seek: {partition, offset} applied right after run()
 *   onPositioned: async () => called once the first fetch after the join completed (positions resolved)
 */
async function consume(ctx, { fromBeginning = true, seek = null, enough, settleMs = 0, onPositioned = null, what }) {
  const consumer = ctx.consumer()
  const got = new Map()
  let crashed
  const crash = new Promise((_, reject) => {
    crashed = reject
  })
  crash.catch(() => {})
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return // kafkajs restarts it (restartOnFailure said yes)
    crashed(Object.assign(new Error(`consumer crashed: ${describeError(payload.error)}`), { inner: payload.error }))
  })
  let joined = false
  let positionedResolve
  const positioned = new Promise(resolve => {
    positionedResolve = resolve
  })
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    joined = true
    ctx.facts.group_join = { memberId: payload.memberId ? 'set' : 'none', protocol: payload.groupProtocol }
  })
  consumer.on(consumer.events.FETCH, () => {
    if (joined) positionedResolve()
  })
  let enoughResolve
  const enoughDone = new Promise(resolve => {
    enoughResolve = resolve
  })

  ctx.at(`consumer connect (group ${ctx.facts.via_group})`)
  await Promise.race([consumer.connect(), crash])
  ctx.at(`consumer subscribe ${ctx.topic}`)
  await Promise.race([consumer.subscribe({ topics: [ctx.topicToRead || ctx.topic], fromBeginning }), crash])
  ctx.at(`consumer run / group join (group ${ctx.facts.via_group})`)
  await Promise.race([
    consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        if (!got.has(partition)) got.set(partition, [])
        got.get(partition).push(plain(partition, message))
        if (enough(got)) enoughResolve()
      },
    }),
    crash,
  ])
  if (seek) {
    ctx.at(`consumer seek partition ${seek.partition} to ${seek.offset}`)
    consumer.seek({ topic: ctx.topicToRead || ctx.topic, partition: seek.partition, offset: String(seek.offset) })
  }
  if (onPositioned) {
    ctx.at('consumer: first fetch after the group join (position resolved)')
    await Promise.race([positioned, crash])
    await onPositioned()
  }
  ctx.at(`consume ${what}`)
  await Promise.race([enoughDone, crash])
  if (settleMs) {
    ctx.at(`consume: settle ${settleMs} ms`)
    await Promise.race([sleep(settleMs), crash])
  }
  ctx.at('consumer disconnect')
  return got
}

const count = (got, p = 0) => (got.get(p) || []).length

// ---------------------------------------------------------------------------------------------
// scenarios

const scenarios = {}

scenarios.connect = async ctx => {
  const admin = await ctx.admin()
  ctx.at('describeCluster')
  const c = await admin.describeCluster()
  const [host, port] = splitHostPort(ctx.bootstrap)
  ctx.facts.brokers = c.brokers.map(b => `${b.nodeId}@${b.host}:${b.port}`)
  ctx.facts.cluster_id = c.clusterId
  ctx.facts.controller = c.controller
  ctx.facts.api_versions = Object.fromEntries([...ctx.requests.keys()].map(k => k.split(' v')).map(([n, v]) => [n, Number(v)]))
  check(c.brokers.length === 1, 'broker count', 1, c.brokers.length)
  const b = c.brokers[0]
  ctx.facts.broker_id = b.nodeId
  check(b.host === host && b.port === port, 'broker host:port', `${host}:${port}`, `${b.host}:${b.port}`)
  check(Number.isInteger(b.nodeId) && b.nodeId >= 0, 'broker node id >= 0', '>= 0', b.nodeId)
}

function splitHostPort(hp) {
  const i = hp.lastIndexOf(':')
  return [hp.slice(0, i), Number(hp.slice(i + 1))]
}

scenarios.metadata = async ctx => {
  const admin = await ctx.admin()
  ctx.at('describeCluster')
  const c = await admin.describeCluster()
  check(c.brokers.length === 1, 'broker count', 1, c.brokers.length)
  const id = c.brokers[0].nodeId
  ctx.facts.broker_id = id
  ctx.at(`fetchTopicMetadata ${ctx.topic}`)
  const md = await admin.fetchTopicMetadata({ topics: [ctx.topic] })
  const t = md.topics.find(x => x.name === ctx.topic)
  check(!!t, 'topic in metadata', ctx.topic, md.topics.map(x => x.name))
  const parts = [...t.partitions].sort((a, b) => a.partitionId - b.partitionId)
  ctx.facts.partitions = parts.map(p => ({ id: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr, error: p.partitionErrorCode }))
  check(fmt(parts.map(p => p.partitionId)) === fmt([0, 1, 2]), 'partition ids', [0, 1, 2], parts.map(p => p.partitionId))
  for (const p of parts) {
    check(p.leader === id, `partition ${p.partitionId} leader`, id, p.leader)
    check(fmt(p.replicas) === fmt([id]), `partition ${p.partitionId} replicas`, [id], p.replicas)
    check(fmt(p.isr) === fmt([id]), `partition ${p.partitionId} isr`, [id], p.isr)
  }
  ctx.at('listTopics')
  const topics = await admin.listTopics()
  ctx.facts.topics_listed = topics.length
  check(topics.includes(ctx.topic), 'listTopics contains the topic', ctx.topic, `absent from ${topics.length} topics`)
}

const CODEC_TYPES = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
}
const CODEC_PACKAGES = { none: 'built in', gzip: 'built in (zlib)', snappy: 'kafkajs-snappy 1.1.0', lz4: 'kafkajs-lz4 1.2.1', zstd: 'zstd-codec 0.1.5 (adapter in driver.js)' }

for (const codec of Object.keys(CODEC_TYPES)) {
  scenarios[`roundtrip-${codec}`] = async ctx => {
    if (codecErrors[codec]) throw new Unsupported(codecErrors[codec])
    ctx.facts.codec = CODEC_PACKAGES[codec]
    // kafkajs has no linger: each send() call is one batch, so 4 sends of 50 records = 4 batches
    ctx.facts.batching = '4 send() calls of 50 records (kafkajs has no linger; one send = one batch)'
    const producer = await ctx.producer()
    const offsets = []
    for (let k = 0; k < 4; k++) {
      ctx.at(`produce records ${k * 50}..${k * 50 + 49} (${codec}, acks=all)`)
      const res = await send(producer, ctx.topic, ctx.name, range(k * 50, k * 50 + 50), { compression: CODEC_TYPES[codec] })
      const base = Number(baseOffset(res))
      for (let j = 0; j < 50; j++) offsets.push(base + j)
    }
    ctx.facts.produced = offsets.length
    check(fmt(offsets) === fmt(range(0, 200)), 'delivery offsets', '0..199', offsets)
    const got = await consume(ctx, { enough: g => count(g) >= 200, what: '200 records from offset 0' })
    ctx.facts.consumed = count(got)
    checkIdentical('read back', got.get(0) || [], ctx.name, range(0, 200), range(0, 200))
  }
}

scenarios['max-message-bytes'] = async ctx => {
  const producer = await ctx.producer({ retry: { retries: 0 } })
  ctx.at('produce record A (60,000 bytes)')
  const resA = await producer.send({ topic: ctx.topic, acks: -1, messages: [{ key: 'a', value: 'a'.repeat(60000), partition: 0 }] })
  check(baseOffset(resA) === '0', 'record A offset', '0', baseOffset(resA))
  ctx.at('produce record B (70,000 bytes), expecting MESSAGE_TOO_LARGE')
  let errB = null
  try {
    const resB = await producer.send({ topic: ctx.topic, acks: -1, messages: [{ key: 'b', value: 'b'.repeat(70000), partition: 0 }] })
    ctx.facts.b_offset = baseOffset(resB)
  } catch (e) {
    errB = e
  }
  check(errB !== null, 'record B rejected', 'MESSAGE_TOO_LARGE (10)', `acknowledged at offset ${ctx.facts.b_offset}`)
  const ke = kafkaError(errB)
  ctx.facts.error = ke ? `${ke.name} ${ke.type} (${ke.code})` : errB.name
  check(ke && ke.code === 10, 'record B error', 'MESSAGE_TOO_LARGE (10)', describeError(errB))
  const got = await consume(ctx, { enough: g => count(g) >= 1, settleMs: 1000, what: 'record A from offset 0' })
  const recs = got.get(0) || []
  ctx.facts.consumed = recs.length
  check(recs.length === 1, 'records in the topic', 1, recs.map(r => `${r.offset}:${r.key}`))
  check(recs[0].offset === '0' && recs[0].key === 'a' && recs[0].value === 'a'.repeat(60000), 'record read back', 'A at offset 0', `${recs[0].key} (${(recs[0].value || '').length} bytes) at ${recs[0].offset}`)
}

for (const [name, acks] of [['acks-0', 0], ['acks-1', 1], ['acks-all', -1]]) {
  scenarios[name] = async ctx => {
    const producer = await ctx.producer()
    ctx.at(`produce 100 records (acks=${acks})`)
    const res = await send(producer, ctx.topic, ctx.name, range(0, 100), { acks })
    ctx.facts.produced = 100
    if (acks !== 0) check(baseOffset(res) === '0', 'delivery base offset', '0', baseOffset(res))
    const got = await consume(ctx, { enough: g => count(g) >= 100, what: '100 records from offset 0' })
    ctx.facts.consumed = count(got)
    checkIdentical('read back', got.get(0) || [], ctx.name, range(0, 100), range(0, 100))
  }
}

scenarios['consume-earliest'] = async ctx => {
  const producer = await ctx.producer()
  ctx.at('produce 20 records')
  await send(producer, ctx.topic, ctx.name, range(0, 20))
  ctx.facts.reset = 'fromBeginning: true (earliest)'
  const got = await consume(ctx, { fromBeginning: true, enough: g => count(g) >= 20, what: '20 records (reset earliest)' })
  ctx.facts.consumed = count(got)
  checkIdentical('read back', got.get(0) || [], ctx.name, range(0, 20), range(0, 20))
}

scenarios['consume-latest'] = async ctx => {
  const producer = await ctx.producer()
  ctx.at('produce records 0..9')
  const res = await send(producer, ctx.topic, ctx.name, range(0, 10))
  check(baseOffset(res) === '0', 'delivery base offset', '0', baseOffset(res))
  ctx.facts.reset = 'fromBeginning: false (latest)'
  const got = await consume(ctx, {
    fromBeginning: false,
    onPositioned: async () => {
      ctx.at('produce record 10')
      const r = await send(producer, ctx.topic, ctx.name, [10])
      ctx.facts.record_10_offset = baseOffset(r)
    },
    enough: g => count(g) >= 1,
    settleMs: 1000,
    what: 'record 10',
  })
  const recs = got.get(0) || []
  ctx.facts.consumed = recs.map(r => r.offset)
  checkIdentical('read after positioning at the end', recs, ctx.name, [10], [10])
}

scenarios['consume-timestamp'] = async ctx => {
  const producer = await ctx.producer()
  ctx.at('produce records 0..9')
  await send(producer, ctx.topic, ctx.name, range(0, 10))
  const admin = await ctx.admin()
  const lookups = {}
  for (const delta of [5000, 5500, 60000]) {
    ctx.at(`fetchTopicOffsetsByTimestamp T0+${delta}`)
    const r = await admin.fetchTopicOffsetsByTimestamp(ctx.topic, T0 + delta)
    const p = r.find(x => x.partition === 0)
    lookups[`T0+${delta}`] = p ? p.offset : null
  }
  ctx.facts.offsets_for_times = lookups
  check(lookups['T0+5000'] === '5', 'offset for T0+5000', '5', lookups['T0+5000'])
  check(lookups['T0+5500'] === '6', 'offset for T0+5500', '6', lookups['T0+5500'])
  // kafkajs replaces Kafka's -1 ("no such offset") by the high watermark
  check(['-1', '10', null].includes(lookups['T0+60000']), 'offset for T0+60000', 'none (-1, or the end offset 10 in kafkajs)', lookups['T0+60000'])
  ctx.facts.no_offset_reported_as = lookups['T0+60000'] === '10' ? 'high watermark (kafkajs maps -1 to the end offset)' : lookups['T0+60000']
  const got = await consume(ctx, {
    fromBeginning: false,
    seek: { partition: 0, offset: lookups['T0+5000'] },
    enough: g => count(g) >= 5,
    settleMs: 500,
    what: 'records 5..9 after seek',
  })
  ctx.facts.consumed = (got.get(0) || []).map(r => r.offset)
  checkIdentical('read from the offset for T0+5000', got.get(0) || [], ctx.name, range(5, 10), range(5, 10))
}

scenarios.idempotent = async ctx => {
  const producer = await ctx.producer({ idempotent: true, maxInFlightRequests: 5, retry: { retries: 5 } })
  ctx.facts.producer = 'idempotent: true, maxInFlightRequests: 5, acks=all'
  ctx.facts.producer_id = 'not exposed by kafkajs'
  // sequential send() calls keep the send order; each send is one request with a batch per partition
  const next = [0, 0, 0]
  for (let k = 0; k < 10; k++) {
    ctx.at(`idempotent produce records ${k * 300}..${k * 300 + 299}`)
    const res = await send(producer, ctx.topic, ctx.name, range(k * 300, k * 300 + 300), { partition: i => i % 3 })
    for (const p of [0, 1, 2]) {
      check(baseOffset(res, p) === String(next[p]), `send ${k} partition ${p} base offset`, String(next[p]), baseOffset(res, p))
      next[p] += 100
    }
  }
  ctx.facts.produced = 3000
  const got = await consume(ctx, {
    enough: g => [0, 1, 2].every(p => count(g, p) >= 1000),
    settleMs: 1000,
    what: '1000 records on each of partitions 0, 1, 2',
  })
  ctx.facts.consumed = [0, 1, 2].map(p => count(got, p))
  for (const p of [0, 1, 2]) {
    const idx = range(0, 3000).filter(i => i % 3 === p)
    checkIdentical(`partition ${p}`, got.get(p) || [], ctx.name, idx, range(0, 1000))
  }
}

async function waitFor(what, fn, ms) {
  const deadline = Date.now() + ms
  let last
  for (;;) {
    last = await fn()
    if (last.ok || Date.now() > deadline) return last
    await sleep(200)
  }
}

/**
 * createTopics, then wait (10 s) until the topic is listed with a leader for every partition.
 * kafkajs's own waitForLeaders retries only LEADER_NOT_AVAILABLE, but Kafka (KRaft) can answer
 * UNKNOWN_TOPIC_OR_PARTITION for a just-created topic until its metadata has propagated.
 */
async function createTopic(ctx, admin, spec) {
  const created = await admin.createTopics({ topics: [spec], waitForLeaders: false })
  if (created !== true) return created
  ctx.at(`wait for ${spec.topic} to be listed with leaders`)
  const ready = await waitFor(
    'leaders',
    async () => {
      if (!(await admin.listTopics()).includes(spec.topic)) return { ok: false, why: 'not listed' }
      try {
        const md = await admin.fetchTopicMetadata({ topics: [spec.topic] })
        const parts = md.topics[0].partitions
        return { ok: parts.length === spec.numPartitions && parts.every(p => p.leader >= 0), why: `partitions ${fmt(parts.map(p => [p.partitionId, p.leader]))}` }
      } catch (e) {
        return { ok: false, why: describeError(e) }
      }
    },
    10000
  )
  check(ready.ok, `${spec.topic} ready within 10 s of createTopics`, `listed, ${spec.numPartitions} partitions with leaders`, ready.why)
  return created
}

async function deleteIfExists(admin, topic) {
  const topics = await admin.listTopics()
  if (!topics.includes(topic)) return
  stderr(`${topic} exists from an earlier run: deleting it first`)
  await admin.deleteTopics({ topics: [topic], timeout: 10000 })
  await waitFor('deleted', async () => ({ ok: !(await admin.listTopics()).includes(topic) }), 10000)
}

scenarios['admin-topics'] = async ctx => {
  const admin = await ctx.admin()
  const t = `${ctx.prefix}.admin-topics-new`
  await deleteIfExists(admin, t)
  ctx.at(`createTopics ${t} (3 partitions, retention.ms=3600000)`)
  const created = await createTopic(ctx, admin, { topic: t, numPartitions: 3, replicationFactor: 1, configEntries: [{ name: 'retention.ms', value: '3600000' }] })
  check(created === true, 'createTopics result', true, created)
  ctx.at('listTopics')
  const listed = await admin.listTopics()
  check(listed.includes(t), 'listTopics contains the new topic', t, `absent from ${listed.length} topics`)
  ctx.at(`fetchTopicMetadata ${t}`)
  const md = await admin.fetchTopicMetadata({ topics: [t] })
  const ids = md.topics[0].partitions.map(p => p.partitionId).sort()
  check(fmt(ids) === fmt([0, 1, 2]), 'partitions of the new topic', [0, 1, 2], ids)
  ctx.at(`createTopics ${t} again, expecting TOPIC_ALREADY_EXISTS`)
  let again
  try {
    again = await admin.createTopics({ topics: [{ topic: t, numPartitions: 3, replicationFactor: 1 }] })
  } catch (e) {
    again = e
  }
  // kafkajs resolves createTopics to false when every topic failed with TOPIC_ALREADY_EXISTS (36)
  ctx.facts.create_again = again === false ? 'false (kafkajs: every topic failed with TOPIC_ALREADY_EXISTS, 36)' : again instanceof Error ? describeError(again) : again
  check(again === false, 'second createTopics', 'false (TOPIC_ALREADY_EXISTS, 36)', again instanceof Error ? describeError(again) : again)
  ctx.at(`deleteTopics ${t}`)
  await admin.deleteTopics({ topics: [t], timeout: 10000 })
  ctx.at('listTopics until the deleted topic is gone (10 s)')
  const t0 = Date.now()
  const gone = await waitFor('gone', async () => ({ ok: !(await admin.listTopics()).includes(t) }), 10000)
  ctx.facts.gone_after_ms = Date.now() - t0
  check(gone.ok, 'deleted topic absent from listTopics within 10 s', 'absent', 'still listed')
}

function configMap(resp) {
  const out = {}
  for (const e of resp.resources[0].configEntries) out[e.configName] = e
  return out
}

const SOURCE_NAMES = Object.fromEntries(Object.entries(ConfigSource).map(([k, v]) => [v, k]))

scenarios['admin-configs'] = async ctx => {
  const admin = await ctx.admin()
  const t = `${ctx.prefix}.admin-configs-new`
  await deleteIfExists(admin, t)
  ctx.at(`createTopics ${t}`)
  const created = await createTopic(ctx, admin, { topic: t, numPartitions: 1, replicationFactor: 1 })
  check(created === true, 'createTopics result', true, created)
  const describe = async () => {
    const resp = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: t, configNames: ['retention.ms', 'cleanup.policy'] }],
    })
    const r = resp.resources[0]
    if (r.errorCode) throw new CheckFailed(`describeConfigs error: expected 0, got ${r.errorCode} ${r.errorMessage || ''}`)
    return configMap(resp)
  }
  ctx.at('describeConfigs (before)')
  const before = await describe()
  const rb = before['retention.ms']
  check(!!rb, 'retention.ms described', 'present', Object.keys(before))
  ctx.facts.before = { value: rb.configValue, isDefault: rb.isDefault, source: SOURCE_NAMES[rb.configSource] }
  check(rb.configValue === '604800000', 'retention.ms before', '604800000', rb.configValue)
  check(rb.isDefault === true, 'retention.ms isDefault before', true, rb.isDefault)
  if (rb.configSource !== undefined) check(rb.configSource === ConfigSource.DEFAULT_CONFIG, 'retention.ms source before', 'DEFAULT_CONFIG', SOURCE_NAMES[rb.configSource])
  ctx.facts.alter_api = 'AlterConfigs (legacy; kafkajs has no IncrementalAlterConfigs)'
  ctx.at('alterConfigs retention.ms=3600000 cleanup.policy=compact')
  await admin.alterConfigs({
    validateOnly: false,
    resources: [
      {
        type: ConfigResourceTypes.TOPIC,
        name: t,
        configEntries: [
          { name: 'retention.ms', value: '3600000' },
          { name: 'cleanup.policy', value: 'compact' },
        ],
      },
    ],
  })
  ctx.at('describeConfigs (after)')
  const after = await describe()
  const ra = after['retention.ms']
  const cp = after['cleanup.policy']
  ctx.facts.after = {
    'retention.ms': ra && { value: ra.configValue, source: SOURCE_NAMES[ra.configSource] },
    'cleanup.policy': cp && { value: cp.configValue, source: SOURCE_NAMES[cp.configSource] },
  }
  check(ra && ra.configValue === '3600000', 'retention.ms after', '3600000', ra && ra.configValue)
  if (ra.configSource !== undefined) check(ra.configSource === ConfigSource.TOPIC_CONFIG, 'retention.ms source after', 'TOPIC_CONFIG (dynamic topic)', SOURCE_NAMES[ra.configSource])
  check(cp && cp.configValue === 'compact', 'cleanup.policy after', 'compact', cp && cp.configValue)
  ctx.at(`deleteTopics ${t}`)
  try {
    await admin.deleteTopics({ topics: [t], timeout: 10000 })
  } catch (e) {
    ctx.facts.delete_error = describeError(e)
  }
}

scenarios['admin-partitions'] = async ctx => {
  const admin = await ctx.admin()
  const t = `${ctx.prefix}.admin-partitions-new`
  await deleteIfExists(admin, t)
  ctx.at(`createTopics ${t} (1 partition)`)
  const created = await createTopic(ctx, admin, { topic: t, numPartitions: 1, replicationFactor: 1 })
  check(created === true, 'createTopics result', true, created)
  ctx.at('createPartitions count=4')
  await admin.createPartitions({ topicPartitions: [{ topic: t, count: 4 }] })
  ctx.at('fetchTopicMetadata after createPartitions')
  const md = await waitFor(
    '4 partitions',
    async () => {
      const m = await admin.fetchTopicMetadata({ topics: [t] })
      const ids = m.topics[0].partitions.map(p => p.partitionId).sort()
      return { ok: fmt(ids) === fmt([0, 1, 2, 3]), ids }
    },
    5000
  )
  check(md.ok, 'partitions after increase', [0, 1, 2, 3], md.ids)
  ctx.at('createPartitions count=2, expecting INVALID_PARTITIONS')
  let err = null
  try {
    await admin.createPartitions({ topicPartitions: [{ topic: t, count: 2 }] })
  } catch (e) {
    err = e
  }
  check(err !== null, 'createPartitions count=2', 'INVALID_PARTITIONS (37)', 'accepted')
  const ke = kafkaError(err)
  ctx.facts.error = ke ? `${ke.name} ${ke.type} (${ke.code})` : describeError(err)
  check(ke && ke.code === 37, 'createPartitions count=2 error', 'INVALID_PARTITIONS (37)', describeError(err))
  ctx.at(`deleteTopics ${t}`)
  try {
    await admin.deleteTopics({ topics: [t], timeout: 10000 })
  } catch (e) {
    ctx.facts.delete_error = describeError(e)
  }
}

scenarios['admin-records'] = async ctx => {
  const producer = await ctx.producer()
  ctx.at('produce records 0..9')
  await send(producer, ctx.topic, ctx.name, range(0, 10))
  const admin = await ctx.admin()
  ctx.at('fetchTopicOffsets')
  const o1 = (await admin.fetchTopicOffsets(ctx.topic)).find(x => x.partition === 0)
  ctx.facts.offsets_before = { low: o1.low, high: o1.high }
  check(o1.low === '0', 'earliest offset', '0', o1.low)
  check(o1.high === '10', 'latest offset', '10', o1.high)
  ctx.at('fetchTopicOffsetsByTimestamp T0+3000')
  const ts = (await admin.fetchTopicOffsetsByTimestamp(ctx.topic, T0 + 3000)).find(x => x.partition === 0)
  ctx.facts.offset_for_T0_3000 = ts.offset
  check(ts.offset === '3', 'offset for T0+3000', '3', ts.offset)
  ctx.at('deleteTopicRecords before offset 4')
  await admin.deleteTopicRecords({ topic: ctx.topic, partitions: [{ partition: 0, offset: '4' }] })
  ctx.skipped.push('delete_records_low_watermark (kafkajs deleteTopicRecords resolves to nothing; checked via fetchTopicOffsets)')
  ctx.at('fetchTopicOffsets after deleteTopicRecords')
  const o2 = (await admin.fetchTopicOffsets(ctx.topic)).find(x => x.partition === 0)
  ctx.facts.offsets_after = { low: o2.low, high: o2.high }
  check(o2.low === '4', 'earliest offset after deleteTopicRecords', '4', o2.low)
  const got = await consume(ctx, { fromBeginning: true, enough: g => count(g) >= 6, settleMs: 500, what: 'records 4..9 from the earliest offset' })
  ctx.facts.consumed = (got.get(0) || []).map(r => r.offset)
  checkIdentical('read from the earliest offset', got.get(0) || [], ctx.name, range(4, 10), range(4, 10))
}

// restart: both halves use the records of scenario "restart" on T(restart)
scenarios['restart-produce'] = async ctx => {
  ctx.topic = `${ctx.prefix}.restart`
  const producer = await ctx.producer()
  ctx.at('produce 100 records (acks=all)')
  const res = await send(producer, ctx.topic, 'restart', range(0, 100))
  ctx.facts.produced = 100
  check(baseOffset(res) === '0', 'delivery base offset', '0', baseOffset(res))
}

scenarios['restart-consume'] = async ctx => {
  ctx.topic = `${ctx.prefix}.restart`
  const got = await consume(ctx, { enough: g => count(g) >= 100, settleMs: 500, what: '100 records from offset 0' })
  ctx.facts.consumed = count(got)
  checkIdentical('read back after restart', got.get(0) || [], 'restart', range(0, 100), range(0, 100))
}

// ---------------------------------------------------------------------------------------------
// consumer-group scenarios

scenarios['group-cooperative'] = async () => {
  throw new Unsupported('kafkajs 2.2.4 has only the eager classic protocol: no cooperative rebalancing (no cooperative-sticky assignor)')
}
scenarios['group-consumer-protocol'] = async () => {
  throw new Unsupported('kafkajs 2.2.4 has no KIP-848 consumer protocol (ConsumerGroupHeartbeat)')
}
scenarios['group-static'] = async () => {
  throw new Unsupported('kafkajs 2.2.4 has no static membership: no group.instance.id option (JoinGroup is always sent with a null groupInstanceId)')
}

scenarios['group-rebalance'] = async ctx => {
  const topic = ctx.topic
  const N = 3000
  const P = 12
  const clock0 = process.hrtime.bigint()
  const now = () => Number(process.hrtime.bigint() - clock0) / 1e6
  const consumedValues = new Map() // value -> times consumed
  const committed = new Map() // partition -> committed offsets in completion order
  const commitErrors = {}
  const intervals = [] // {member, partition, start, end}
  const assignments = []
  let rebalances = 0
  let consumedTotal = 0
  let allResolve
  const all = new Promise(resolve => {
    allResolve = resolve
  })
  let crashReject
  const crash = new Promise((_, reject) => {
    crashReject = reject
  })
  crash.catch(() => {})
  ctx.facts.assignor = 'RoundRobinAssigner (kafkajs default, eager classic protocol)'
  ctx.facts.commit_errors = commitErrors
  ctx.facts.assignments = assignments

  const start = async name => {
    const c = ctx.consumer({ heartbeatInterval: 500 })
    const owned = new Map()
    const m = { name, c, closing: false, inflight: Promise.resolve() }
    const release = t => {
      for (const [p, s] of owned) intervals.push({ member: name, partition: p, start: s, end: t })
      owned.clear()
    }
    m.release = release
    c.on(c.events.REBALANCING, () => release(now()))
    c.on(c.events.GROUP_JOIN, ({ payload }) => {
      const t = now()
      release(t)
      rebalances++
      const parts = (payload.memberAssignment && payload.memberAssignment[topic]) || []
      for (const p of parts) owned.set(p, t)
      assignments.push({ member: name, t: Math.round(t), partitions: [...parts].sort((a, b) => a - b) })
    })
    c.on(c.events.CRASH, ({ payload }) => payload.restart || crashReject(Object.assign(new Error(`consumer ${name} crashed`), { inner: payload.error })))
    await c.connect()
    await c.subscribe({ topics: [topic], fromBeginning: true })
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: false, // only what was processed moves the position
      eachBatch: async ({ batch, resolveOffset, isRunning, isStale }) => {
        if (m.closing) return
        let done
        m.inflight = new Promise(resolve => {
          done = resolve
        })
        try {
          let last = null
          for (const msg of batch.messages) {
            if (!isRunning() || isStale() || m.closing) break
            const v = msg.value.toString()
            consumedValues.set(v, (consumedValues.get(v) || 0) + 1)
            consumedTotal++
            last = msg.offset
            resolveOffset(msg.offset)
          }
          if (last !== null) {
            const offset = String(Number(last) + 1)
            try {
              await c.commitOffsets([{ topic, partition: batch.partition, offset }])
              if (!committed.has(batch.partition)) committed.set(batch.partition, [])
              committed.get(batch.partition).push(Number(offset))
            } catch (e) {
              const ke = kafkaError(e)
              const key = ke ? ke.type : e.name
              commitErrors[key] = (commitErrors[key] || 0) + 1
            }
          }
          if (consumedValues.size >= N) allResolve()
        } finally {
          done()
        }
      },
    })
    return m
  }
  const stop = async m => {
    m.closing = true
    await m.inflight
    m.release(now())
    await m.c.disconnect()
  }

  const producer = await ctx.producer()
  ctx.at('group-rebalance: start C1 and the producer')
  const members = {}
  const produce = (async () => {
    // 300 records/s: 30 records every 100 ms
    for (let k = 0; k < N / 30; k++) {
      const due = k * 100
      const wait = due - now()
      if (wait > 0) await sleep(wait)
      await send(producer, topic, ctx.name, range(k * 30, k * 30 + 30), { partition: i => i % P })
    }
  })()
  produce.catch(() => {})
  const at = async ms => {
    const wait = ms - now()
    if (wait > 0) await Promise.race([sleep(wait), crash])
  }
  members.c1 = await Promise.race([start('C1'), crash])
  await at(2000)
  ctx.at('group-rebalance: start C2')
  members.c2 = await Promise.race([start('C2'), crash])
  await at(4000)
  ctx.at('group-rebalance: start C3')
  members.c3 = await Promise.race([start('C3'), crash])
  await at(6000)
  ctx.at('group-rebalance: close C1')
  await Promise.race([stop(members.c1), crash])
  await at(8000)
  ctx.at('group-rebalance: close C2')
  await Promise.race([stop(members.c2), crash])
  ctx.at('group-rebalance: produce all 3000 records')
  await Promise.race([produce, crash])
  ctx.at(`group-rebalance: C3 consumes every record (${consumedValues.size}/${N} so far)`)
  const progress = setInterval(() => ctx.at(`group-rebalance: C3 consumes every record (${consumedValues.size}/${N} so far)`), 500)
  // wait until every record was consumed, or until nothing new arrived for 10 s (then check (a) says what is missing)
  let seen = -1
  let lastChange = now()
  const stalled = (async () => {
    while (consumedValues.size < N) {
      if (consumedValues.size !== seen) {
        seen = consumedValues.size
        lastChange = now()
      } else if (now() - lastChange > 10000) {
        return
      }
      await sleep(200)
    }
  })()
  try {
    await Promise.race([all, stalled, crash])
  } finally {
    clearInterval(progress)
  }
  await stop(members.c3)
  let duplicates = 0
  for (const n of consumedValues.values()) duplicates += n - 1
  ctx.facts.produced = N
  ctx.facts.consumed = consumedTotal
  ctx.facts.duplicates = duplicates
  ctx.facts.rebalances = rebalances
  const missing = range(0, N).filter(i => !consumedValues.has(stdRecord(ctx.name, i).value))
  check(missing.length === 0, '(a) every produced record consumed', 'all 3000', `${missing.length} missing, e.g. ${missing.slice(0, 5)}`)
  for (const [p, offs] of committed) {
    for (let j = 1; j < offs.length; j++) {
      check(offs[j] >= offs[j - 1], `(b) partition ${p} committed offsets never decrease`, `>= ${offs[j - 1]}`, offs[j])
    }
  }
  for (let p = 0; p < P; p++) {
    const iv = intervals.filter(x => x.partition === p).sort((a, b) => a.start - b.start)
    for (let j = 1; j < iv.length; j++) {
      const a = iv[j - 1]
      const b = iv[j]
      check(b.start >= a.end, `(c) partition ${p} owned by one consumer at a time`, `${b.member} assigned at/after ${a.member} revoked (${a.end.toFixed(1)} ms)`, `${b.member} assigned at ${b.start.toFixed(1)} ms`)
    }
  }
}

scenarios['group-offsets'] = async ctx => {
  const topic = `${ctx.prefix}.consume-earliest`
  ctx.topicToRead = topic
  const groupId = `${ctx.prefix}.${ctx.name}`
  const admin = await ctx.admin()
  ctx.at(`fetchTopicOffsets ${topic}`)
  let o = (await admin.fetchTopicOffsets(topic)).find(x => x.partition === 0)
  if (Number(o.high) - Number(o.low) < 20) {
    // empty (or its records were removed, e.g. by time retention: the standard timestamps are old)
    ctx.at('produce 20 records')
    const producer = await ctx.producer()
    await send(producer, topic, 'consume-earliest', range(0, 20))
    ctx.facts.produced = 20
    o = (await admin.fetchTopicOffsets(topic)).find(x => x.partition === 0)
  }
  // normally 0; when retention removed earlier records, the 20 records start later: commit base + 7
  const base = Number(o.high) - 20
  if (base !== 0) ctx.facts.log_start_offset = o.low
  const target = String(base + 7)
  // kafkajs cannot commit without a group member: admin.setOffsets joins the (empty) group with a
  // paused consumer, seeks and commits; it cannot attach commit metadata.
  ctx.facts.commit_api = 'admin.setOffsets (kafkajs: a paused group member seeks and commits; no metadata)'
  ctx.skipped.push('commit metadata m7 (kafkajs cannot set or return offset-commit metadata)')
  ctx.at(`admin.setOffsets group ${groupId} partition 0 offset ${target}`)
  await admin.setOffsets({ groupId, topic, partitions: [{ partition: 0, offset: target }] })
  ctx.at(`admin.fetchOffsets group ${groupId}`)
  const fetched = await admin.fetchOffsets({ groupId, topics: [topic] })
  const p0 = fetched[0].partitions.find(x => x.partition === 0)
  ctx.facts.committed = p0 ? { offset: p0.offset, metadata: p0.metadata } : null
  check(p0 && p0.offset === target, 'committed offset fetched', target, p0 && p0.offset)
  const got = await consume(ctx, { fromBeginning: true, enough: g => count(g) >= 1, what: 'the first record after the committed offset' })
  const first = (got.get(0) || [])[0]
  ctx.facts.resumed_at = first && first.offset
  check(first && first.offset === target, 'a new group member resumes at', target, first && first.offset)
  check(first.key === 'k7', 'record at offset 7 key', 'k7', first.key)
}

// ---------------------------------------------------------------------------------------------
// runner

// ---------------------------------------------------------------------------------------------
// security (SCENARIOS.md, "Security scenarios")

const MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512', 'OAUTHBEARER']

/** Over a secured listener: produce standard records 0..n-1 to `partition`, read them back identical (group). */
async function securedRoundtrip(ctx, protocol, mechanism, n, partition, label) {
  const kafka = ctx.kafka
  ctx.kafka = ctx.securedKafka(protocol, mechanism)
  try {
    const producer = await ctx.producer()
    ctx.at(`${label}: produce ${n} records to partition ${partition}`)
    const res = await send(producer, ctx.topic, ctx.name, range(0, n), { partition: () => partition })
    check(baseOffset(res, partition) === '0', `${label}: delivery base offset`, '0', baseOffset(res, partition))
    const got = await consume(ctx, { fromBeginning: true, enough: g => count(g, partition) >= n, what: `${n} records of partition ${partition}` })
    ctx.facts[`consumed_${label}`] = count(got, partition)
    checkIdentical(`read back ${label}`, got.get(partition) || [], ctx.name, range(0, n), range(0, n))
  } finally {
    await ctx.closeAll() // leave the group before the next mechanism's consumer joins it
    ctx.kafka = kafka
  }
}

scenarios['security-ssl'] = async ctx => {
  await securedRoundtrip(ctx, 'SSL', null, 20, 0, 'SSL')
  ctx.facts.ca_verified = true
}

for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL']) {
  scenarios[`security-${protocol.toLowerCase().replace('_', '-')}`] = async ctx => {
    const used = []
    for (let m = 0; m < MECHANISMS.length; m++) {
      await securedRoundtrip(ctx, protocol, MECHANISMS[m], 10, m, MECHANISMS[m])
      used.push(MECHANISMS[m])
    }
    ctx.facts.mechanisms = used
  }
}

scenarios['security-auth-failure'] = async ctx => {
  const sec = ctx.secured()
  const refused = {}
  const noRetry = { retry: { retries: 0 } }
  for (const mech of MECHANISMS) {
    const u = sec.users[mech]
    // kafkajs's OAUTHBEARER authenticator ends the exchange once the token is sent: the broker's error challenge
    // ({"status":"invalid_token"}) is taken for success and never answered, so no refusal is reported.
    if (mech === 'OAUTHBEARER') ctx.skipped.push("OAUTHBEARER refusals: kafkajs takes the broker's error challenge for a successful login")
    const attempts = mech === 'OAUTHBEARER'
      ? []
      : [['wrong password', u.username, sec.wrong_password], ['unknown user', sec.unknown_user, u.password]]
    for (const [what, user, password] of attempts) {
      ctx.at(`${mech} ${what}: authentication error`)
      const admin = ctx.securedKafka('SASL_PLAINTEXT', mech, user, password, noRetry).admin(noRetry)
      let err = null
      try {
        await admin.connect()
      } catch (e) {
        err = e
      } finally {
        await admin.disconnect().catch(() => {})
      }
      if (!err) throw new CheckFailed(`${mech} ${what}: expected KafkaJSSASLAuthenticationError, got a successful login`)
      const name = err.name || err.constructor.name
      check(name === 'KafkaJSSASLAuthenticationError', `${mech} ${what} error`, 'KafkaJSSASLAuthenticationError', describeError(err))
      refused[`${mech} ${what}`] = describeError(err)
    }
    ctx.at(`${mech}: list topics with the right credentials after the refusals`)
    const admin = ctx.securedKafka('SASL_PLAINTEXT', mech).admin()
    ctx.closers.push(() => admin.disconnect())
    await admin.connect()
    const topics = await admin.listTopics()
    check(topics.includes(ctx.topic), `${mech} login after the refusals: topic listed`, ctx.topic, `${topics.length} other topics`)
    await ctx.closeAll()
  }
  ctx.facts.refused = refused
  ctx.facts.mechanisms = MECHANISMS
  ctx.skipped.push('SASL_AUTHENTICATION_FAILED (58): kafkajs raises KafkaJSSASLAuthenticationError with the broker message, no code')
}

async function runScenario(name, opts) {
  const started = process.hrtime.bigint()
  const ctx = new Ctx(name, opts)
  let status = 'pass'
  let detail = ''
  const impl = scenarios[name]
  if (!impl) {
    status = 'unsupported'
    detail = `unknown scenario ${name}`
  } else {
    let timer
    const work = impl(ctx)
    work.catch(() => {})
    try {
      await Promise.race([
        work,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new ScenarioTimeout(ctx.step)), SCENARIO_TIMEOUT_MS)
        }),
      ])
    } catch (e) {
      if (e instanceof Unsupported) {
        status = 'unsupported'
        detail = e.message
      } else if (e instanceof ScenarioTimeout) {
        status = 'fail'
        detail = `timeout: ${e.message}`
        if (ctx.lastCrash) detail += ` (last consumer crash: ${ctx.lastCrash})`
      } else if (e instanceof CheckFailed) {
        status = 'fail'
        detail = e.message
      } else {
        status = 'fail'
        detail = `${ctx.step}: ${describeError(e.inner || e)}`
        if (e.inner) detail = `${ctx.step}: consumer crashed: ${describeError(e.inner)}`
        if (ctx.hiddenError) detail += ` <- (kafkajs debug log) ${ctx.hiddenError}`
      }
    } finally {
      clearTimeout(timer)
    }
  }
  if (status === 'fail') {
    ctx.facts.requests_sent = Object.fromEntries(ctx.requests)
    if (ctx.lastRequest) ctx.facts.last_request = ctx.lastRequest
  }
  await ctx.closeAll()
  if (ctx.skipped.length) ctx.facts.skipped_checks = ctx.skipped
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  emit({ scenario: name, status, detail: oneLine(detail), facts: ctx.facts, seconds: Math.round(seconds * 1000) / 1000 })
}

function parseArgs(argv) {
  const opts = { scenarios: [] }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`)
      return argv[++i]
    }
    if (a === '--client-version') opts.version = true
    else if (a === '--bootstrap') opts.bootstrap = val()
    else if (a === '--prefix') opts.prefix = val()
    else if (a === '--scenarios') opts.scenarios = val().split(',').map(s => s.trim()).filter(Boolean)
    else if (a === '--security') opts.security = JSON.parse(fs.readFileSync(val(), 'utf-8'))
    else if (a.startsWith('--bootstrap=')) opts.bootstrap = a.slice(12)
    else if (a.startsWith('--prefix=')) opts.prefix = a.slice(9)
    else if (a.startsWith('--scenarios=')) opts.scenarios = a.slice(12).split(',').filter(Boolean)
    else throw new Error(`unknown argument ${a}`)
  }
  return opts
}

async function main() {
  let opts
  try {
    opts = parseArgs(process.argv.slice(2))
  } catch (e) {
    process.stderr.write(`${e.message}\nusage: driver.js --bootstrap HOST:PORT --prefix PREFIX --scenarios a,b,c | --client-version\n`)
    process.exit(2)
  }
  if (opts.version) {
    fs.writeSync(1, `${CLIENT} ${CLIENT_VERSION}\n`)
    return 0
  }
  if (!opts.bootstrap || !opts.prefix || !opts.scenarios.length) {
    process.stderr.write('usage: driver.js --bootstrap HOST:PORT --prefix PREFIX --scenarios a,b,c | --client-version\n')
    process.exit(2)
  }
  registerCodecs()
  for (const name of opts.scenarios) {
    try {
      await runScenario(name, opts)
    } catch (e) {
      emit({ scenario: name, status: 'fail', detail: oneLine(`driver error: ${describeError(e)}`), facts: {}, seconds: 0 })
    }
  }
  return 0
}

main().then(
  code => process.exit(code),
  e => {
    stderr(`fatal: ${describeError(e)}`)
    process.exit(1)
  }
)
