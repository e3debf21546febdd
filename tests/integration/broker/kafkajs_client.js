// kafkajs 2.2.4 against tributary-broker, driven by test_kafkajs.py.
//   node kafkajs_client.js <bootstrap host:port> <topic> <partitions> <records per producer>
// Admin: createTopics (and again: already exists), fetchTopicMetadata, fetchTopicOffsets,
// fetchTopicOffsetsByTimestamp, listTopics. Producers: the default one (acks -1), an idempotent one
// (InitProducerId, sequences) and a GZIP one. Reading, twice: with kafkajs's own Fetch request and
// RecordBatch decoder (the cluster/broker objects its consumer uses), partition by partition from
// offset 0; and with a kafkajs consumer in a consumer group (FindCoordinator, JoinGroup, SyncGroup,
// Heartbeat, OffsetFetch, OffsetCommit, LeaveGroup), subscribed from the beginning.
// Prints one JSON object on stdout: {acks, offsets, by_ts, records, group_records} for the Python side.
'use strict'
const { Kafka, CompressionTypes, logLevel } = require('kafkajs')

const [bootstrap, topic, partitionsArg, perProducerArg] = process.argv.slice(2)
const partitions = Number(partitionsArg)
const perProducer = Number(perProducerArg)

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`)
}

function b64(buf) {
  return buf == null ? null : Buffer.from(buf).toString('base64')
}

function record(i, tag) {
  return {
    key: `${tag}-key-${i}`,
    value: Buffer.from(`${tag}-value-${i}-`.padEnd(40 + (i % 50), 'x')),
    headers: { tag, seq: String(i) },
  }
}

async function produceAll(kafka, opts, send, tag) {
  const producer = kafka.producer(opts)
  await producer.connect()
  const acks = []
  const batch = 50
  for (let i = 0; i < perProducer; i += batch) {
    const messages = []
    for (let j = i; j < Math.min(i + batch, perProducer); ++j) {
      const m = record(j, tag)
      messages.push({ ...m, partition: j % partitions })
    }
    const meta = await producer.send({ topic, messages, ...send })
    for (const r of meta) {
      check(r.errorCode === 0, `produce error ${JSON.stringify(r)}`)
      acks.push({ tag, partition: r.partition, base_offset: Number(r.baseOffset), from: i })
    }
  }
  await producer.disconnect()
  return acks
}

async function fetchAll(kafka, ends) {
  // The Cluster object a kafkajs consumer would use, created through the client's own factory.
  const create = Object.getOwnPropertySymbols(kafka).find(s => String(s).includes('createCluster'))
  const cluster = kafka[create]({ allowAutoTopicCreation: false })
  await cluster.connect()
  await cluster.addTargetTopic(topic)
  await cluster.refreshMetadata()
  const out = []
  for (let p = 0; p < partitions; ++p) {
    const leader = cluster.findLeaderForPartitions(topic, [p])
    const nodeId = Object.keys(leader)[0]
    const broker = await cluster.findBroker({ nodeId })
    let next = 0
    const deadline = Date.now() + 30000
    while (next < ends[p] && Date.now() < deadline) {
      const resp = await broker.fetch({
        maxWaitTime: 100,
        maxBytes: 1 << 20,
        topics: [{ topic, partitions: [{ partition: p, fetchOffset: String(next), maxBytes: 64 << 10 }] }],
      })
      const part = resp.responses[0].partitions[0]
      check(part.errorCode === 0, `fetch error ${part.errorCode} at ${p}/${next}`)
      check(Number(part.highWatermark) === ends[p], `high watermark ${part.highWatermark} != ${ends[p]}`)
      for (const m of part.messages) {
        if (Number(m.offset) < next) continue // a batch that starts before the fetch offset
        const headers = {}
        for (const [k, v] of Object.entries(m.headers || {})) headers[k] = Buffer.from(v).toString()
        out.push({ partition: p, offset: Number(m.offset), key: b64(m.key), value: b64(m.value), headers })
        next = Number(m.offset) + 1
      }
    }
    check(next === ends[p], `partition ${p}: read up to ${next} of ${ends[p]}`)
  }
  await cluster.disconnect()
  return out
}

async function consumeGroup(kafka, total) {
  const consumer = kafka.consumer({ groupId: `${topic}-kafkajs-group`, sessionTimeout: 10000, heartbeatInterval: 1000 })
  await consumer.connect()
  await consumer.subscribe({ topic, fromBeginning: true })
  const out = []
  let done
  const finished = new Promise(resolve => { done = resolve })
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers = {}
      for (const [k, v] of Object.entries(message.headers || {})) headers[k] = Buffer.from(v).toString()
      out.push({ partition, offset: Number(message.offset), key: b64(message.key), value: b64(message.value), headers })
      if (out.length >= total) done()
    },
  })
  const timer = setTimeout(done, 60000)
  await finished
  clearTimeout(timer)
  await consumer.disconnect()
  return out
}

async function main() {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'trib-kafkajs-test', logLevel: logLevel.WARN })
  const admin = kafka.admin()
  await admin.connect()
  const created = await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  check(created === true, `createTopics answered ${created}`)
  const again = await admin.createTopics({ topics: [{ topic, numPartitions: partitions }] })
  check(again === false, `createTopics of an existing topic answered ${again}`)
  const md = await admin.fetchTopicMetadata({ topics: [topic] })
  check(md.topics.length === 1 && md.topics[0].partitions.length === partitions,
    `fetchTopicMetadata ${JSON.stringify(md)}`)
  for (const p of md.topics[0].partitions) check(p.leader === 0 && p.partitionErrorCode === 0, `leader ${JSON.stringify(p)}`)
  check((await admin.listTopics()).includes(topic), 'listTopics lacks the topic')
  const empty = await admin.fetchTopicOffsets(topic)
  for (const o of empty) check(o.low === '0' && o.high === '0', `empty offsets ${JSON.stringify(o)}`)

  const before = Date.now()
  const acks = [
    ...(await produceAll(kafka, {}, {}, 'plain')), // acks -1, the kafkajs default
    ...(await produceAll(kafka, { idempotent: true, maxInFlightRequests: 1 }, {}, 'idem')),
    ...(await produceAll(kafka, {}, { compression: CompressionTypes.GZIP, acks: 1 }, 'gzip')),
  ]

  // acks=1 is answered before the fdatasync and the high watermark follows it: wait for all of them.
  let offsets = []
  const total = 3 * perProducer
  for (const deadline = Date.now() + 10000; Date.now() < deadline;) {
    offsets = await admin.fetchTopicOffsets(topic)
    if (offsets.reduce((n, o) => n + Number(o.high), 0) >= total) break
    await new Promise(r => setTimeout(r, 50))
  }
  const ends = new Array(partitions).fill(0)
  for (const o of offsets) ends[o.partition] = Number(o.high)
  const byTs = await admin.fetchTopicOffsetsByTimestamp(topic, before - 60000)
  await admin.disconnect()

  const records = await fetchAll(kafka, ends)
  const groupRecords = await consumeGroup(kafka, records.length)
  process.stdout.write(JSON.stringify({ acks, offsets, by_ts: byTs, records, group_records: groupRecords }))
}

main().catch(e => {
  console.error(e && e.stack ? e.stack : e)
  process.exit(1)
})
