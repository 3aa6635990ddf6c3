// The HL7 peer of the ingest benchmark: node-hl7-server answering every
// message with AA at once (it stores nothing). Started by
// scripts/bench-ingest.sh: node node-hl7-peer.js PORT
const { Server } = require('node-hl7-server')

const port = Number(process.argv[2])
const server = new Server({ bindAddress: '127.0.0.1' })
const inbound = server.createInbound({ port }, async (req, res) => {
  await res.sendResponse('AA')
})
inbound.on('listen', () => console.log(`listening on 127.0.0.1:${port}`))
