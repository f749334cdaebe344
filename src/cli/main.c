/* Entry point of the catena binary: dispatches to subcommands and handles
 * help, version and usage errors (exit code 2). */
#include "cli.h"

#include <arpa/inet.h>

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catena/util.h"

#ifndef CATENA_VERSION
#define CATENA_VERSION "0.0.0"
#endif

static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const cli_cmd commands[] = {
    {"up", "run a local federation (chain, contract, gateway, two DC agents) until Ctrl-C",
     "catena up [--dir DIR] [--chain anvil|hardhat|poa] [--nodes N] [--rpc-port N]\n"
     "                 [--api-port N] [--state-interval SECONDS] [--can N [--orchestrators M]]\n"
     "                 [--clouds DIR]",
     "Starts a local chain, deploys the Federation contract, creates funded\n"
     "keystores for DC1 and DC2, starts their agents and a gateway, registers\n"
     "both DCs through the gateway and writes DIR/federation.json (API and RPC\n"
     "URLs, contract, each DC's wallet and bearer token). An agent, the\n"
     "gateway or chain node that dies is restarted with backoff. Ctrl-C or\n"
     "SIGTERM stops everything it started.\n"
     "\n"
     "For agreements (anvil, Hardhat): funded accounts provider, user, party1-3;\n"
     "DC1 declares region=eu-west country=DE gdpr=true and DC2 region=us-east\n"
     "country=US gdpr=false; the gateway's keeper deploys agreement sessions on\n"
     "DC1 for the provider (docs/AGREEMENTS.md).\n"
     "\n"
     "With anvil (the default) the chain is kept in DIR/chain/: run `catena up`\n"
     "again with the same DIR and it resumes the same federation (contract,\n"
     "keys, tokens, every VC and its history, the gateway's cache). A Hardhat\n"
     "chain is forgotten when it stops, so its DIR cannot be resumed.\n"
     "\n"
     "With poa, N EthereumJS nodes seal a Clique chain every 2 s, as a\n"
     "consortium would: DC1's agent sends to node 1, DC2's to node 2, the\n"
     "gateway follows node 3, each failing over to the others. The network is\n"
     "not resumed either (docs/CHAIN.md).\n"
     "\n"
     "  --dir DIR       state, keys and logs (default: ./catena-up)\n"
     "  --chain KIND    anvil (default), hardhat or poa; a resumed DIR keeps its own\n"
     "  --nodes N       poa: how many sealers (default: 3)\n"
     "  --rpc-port N    chain JSON-RPC port, 0 picks a free one (default: 8545)\n"
     "  --api-port N    gateway port, 0 picks a free one (default: 5100)\n"
     "  --state-interval SECONDS  how often anvil saves its chain (default: 5)\n"
     "  --can N         also seed 002's orchestration: Registry and Cloud contracts\n"
     "                  (8 resources owned by DC1 and DC2), N CAN nodes and\n"
     "  --orchestrators M  orchestrators (default: 2); federation.json names them\n"
     "                  and `catena app deploy` runs applications on them\n"
     "  --clouds DIR    the two OpenStack clouds `scripts/clouds up DIR` runs: DC1's\n"
     "                  agent watches cloud a and DC2's cloud b (their instances\n"
     "                  become VCs, docs/AGENT_WATCH.md), and the gateway runs\n"
     "                  migrations between them (POST /api/migrations, docs/S2D.md)\n"
     "\n"
     "The chain nodes are looked up in $CATENA_ROOT/node_modules, else in the\n"
     "source tree catena was built from.\n",
     NULL, cmd_up},
    {"agent", "the DC agent: signs this DC's transactions for the gateway (WebSocket)",
     "catena agent --name DC --key-file F (--password-file F | --password-env VAR)\n"
     "                    --rpc URL --contract ADDR --listen HOST:PORT --tokens FILE\n"
     "                    [--gateway ADDR]... [--tls-cert F --tls-key F] [--outbox FILE]\n"
     "                    [--idle-timeout S] [--ping-interval S] [--max-message BYTES]\n"
     "                    [--always-preflight]\n"
     "                    [--openstack CLOUDS.YAML:CLOUD --amqp URL --watch-journal F\n"
     "                     [--amqp-exchange NAME]]\n"
     "       catena agent --hash-token [--token-env VAR]",
     "Serves ws://HOST:PORT/ws/DC for the gateway (docs/AGENT_PROTOCOL.md): each\n"
     "request must carry a token of this DC, is validated, signed with the DC's key\n"
     "and sent to the Federation contract; the reply is the transaction hash.\n"
     "SIGINT or SIGTERM stops it.\n"
     "\n"
     "  --name DC            this DC's name (also the URL path)\n"
     "  --key-file F         keystore v3 file (or a hex key) of the DC's wallet\n"
     "  --password-file F    keystore password, or --password-env VAR\n"
     "  --rpc URL            chain JSON-RPC endpoint\n"
     "  --contract ADDR      the Federation contract\n"
     "  --listen HOST:PORT   IPv4 address and port to serve on\n"
     "  --tokens FILE        {\"DC\": [\"<sha256 hex of a token>\", ...]}\n"
     "  --gateway ADDR       accept only gateways that sign their upgrade with this\n"
     "                       address's key (repeatable); without it, any local peer\n"
     "                       is served, and only on a loopback address\n"
     "  --tls-cert F, --tls-key F  serve wss:// with this PEM certificate and key\n"
     "  --idle-timeout S     close other connections after S s without a request (300)\n"
     "  --ping-interval S    ping a quiet gateway connection every S s; close it when\n"
     "                       the pong has not come by the next ping (30)\n"
     "  --outbox FILE        keep each signed transaction here (synced before it is\n"
     "                       sent) and send it again until the chain has it, so a\n"
     "                       node that comes back behind loses no acknowledged write\n"
     "  --max-message BYTES  largest request (default 524288)\n"
     "  --always-preflight   check every call with eth_call before sending it, also\n"
     "                       on a node that mines on arrival (Hardhat automine),\n"
     "                       where a reverting call is otherwise mined as failed\n"
     "  --openstack F:CLOUD  watch this cloud of a clouds.yaml: its new instances\n"
     "                       become VCs, their state changes their availability, a\n"
     "                       deletion retires them (docs/AGENT_WATCH.md)\n"
     "  --amqp URL           its Nova's RabbitMQ, amqp://USER:PASSWORD@HOST:PORT/VHOST\n"
     "  --watch-journal F    SQLite journal of the notifications handled\n"
     "  --amqp-exchange NAME the exchange Nova notifies on (default nova)\n"
     "  --hash-token         print the SHA-256 of a token read from stdin (or\n"
     "                       --token-env VAR), for the tokens file\n",
     NULL, cmd_agent},
    {"tool", "Ethereum and data utilities (keccak, ABI, RLP, transactions, keystores, rpc)",
     "catena tool <subcommand> [args]", NULL, cli_tool_help, cmd_tool},
    {"dc", "datacenters through a gateway: list, show, register, attributes",
     "catena dc (list | show WALLET | register NAME WALLET | attributes NAME|WALLET "
     "[KEY=VALUE...]) [--api URL] [--federation FILE]",
     "The gateway URL comes from --api, $CATENA_API or federation.json (--federation,\n"
     "default ./catena-up/federation.json); the bearer token from $CATENA_TOKEN or\n"
     "federation.json (the DC being registered, or --as DC).\n"
     "attributes NAME KEY=VALUE... declares what the DC is (region, country, gdpr...)\n"
     "on the ledger, replacing what it declared before; without KEY=VALUE it shows\n"
     "them. Agreements' constraints are checked against them (docs/AGREEMENTS.md).\n",
     NULL, cmd_dc},
    {"vc", "virtual containers through a gateway: register, show, history, sla, ...",
     "catena vc <verb> ... [--api URL] [--federation FILE] [--as DC]",
     "  register DC '<json of Table 3>'      show|flavor|history|pending TAG\n"
     "  tag TX_HASH [--json]                 list [--dc DC] [--available true|false]\n"
     "  sla TAG [--from T] [--to T] [--target PCT]\n"
     "  availability DC TAG true|false [--at TIME]\n"
     "  migrate DC TAG --dest DC2 --price P --invoice I [--at TIME]\n"
     "  confirm DC TAG --id ID [--ip URL] [--controller URL] --price P --invoice I [--at TIME]\n"
     "  retire DC TAG [--at TIME]\n"
     "Gateway URL and token as for 'catena dc'; writes act for the DC named after the verb.\n"
     "`tag` prints the VC tag alone (--json: the whole answer). Tags and hashes are 0x and\n"
     "64 hex digits; a malformed argument exits 2 before anything is sent.\n",
     NULL, cmd_vc},
    {"place", "place a TOSCA application on the most energy-efficient hosts; bin packing",
     "catena place APP.yaml --kb KB [--format tosca|hot|json] [--input NAME=VALUE]... "
     "[--objective energy|cost|carbon]\n"
     "                        [--constraint KEY=VALUE[|VALUE...]]... [--federation FILE]\n"
     "       catena place binpack FILE [--json]",
     "Places each Compute node of the TOSCA template APP.yaml (with its imports) on\n"
     "the host of the knowledge base KB (YAML or JSON, see docs/PLACEMENT.md) where\n"
     "its predicted load adds the least power (or cost, or carbon), honouring\n"
     "catena.tag / catena.arch metadata, and prints the concrete TOSCA (default),\n"
     "a Heat template (hot) or the decisions as JSON.\n"
     "\n"
     "  --kb KB             knowledge base: tags, flavours, host models, hosts\n"
     "  --format F          tosca, hot or json (default tosca)\n"
     "  --input NAME=VALUE  value of a topology input (repeatable)\n"
     "  --objective O       energy, cost or carbon (default: the KB's, else energy)\n"
     "  --constraint K=V    only hosts of DCs whose attributes on the ledger satisfy\n"
     "                      it (as an agreement's constraints: gdpr=true,\n"
     "                      region=eu-west|eu-central; repeatable); the ledger is\n"
     "                      that of --federation FILE (default\n"
     "                      ./catena-up/federation.json)\n"
     "\n"
     "Exit 2 with file:line:column errors when the template or KB is invalid,\n"
     "1 when no host can take a component.\n"
     "'catena place binpack FILE' solves OR-Library bin packing instances.\n",
     NULL, cmd_place},
    {"tosca", "check a TOSCA template and its imports without placing it",
     "catena tosca check FILE [--json] [--input NAME=VALUE]...",
     "Reads FILE as TOSCA Simple Profile in YAML 1.0-1.3 with every file it\n"
     "imports (relative to the importing file) and checks it: syntax, types and\n"
     "their derivation, properties against their definitions, requirements and\n"
     "their targets, intrinsic functions, inputs. A file that only defines types\n"
     "is valid. Prints a summary (node templates, inputs, outputs, files) and\n"
     "exits 0; warnings go to stderr. An invalid template exits 2 with every\n"
     "error as file:line:column.\n"
     "\n"
     "  --json              one JSON object: valid, errors and warnings (each with\n"
     "                      file, line, column, message), the version, the files,\n"
     "                      node templates, inputs and outputs; exit codes as above\n"
     "  --input NAME=VALUE  value of a topology input, checked against its type\n"
     "                      (repeatable)\n",
     NULL, cmd_tosca},
    {"migrate", "move an instance between two OpenStack clouds as an XML spec says (S2D)",
     "catena migrate --spec SPEC.xml [--clouds FILE] [--state DIR] [--json] [--timeout MS]\n"
     "                      [--to DC [--federation FILE] [--api URL] [--price P] [--invoice I]]\n"
     "       catena migrate (status [ID] | resume ID | reset ID) [--state DIR] [--json]",
     "Runs the nine steps of a Software-to-Data migration (seed 001): log in to\n"
     "cloud A, snapshot the instance (its flavor and security-group rules kept),\n"
     "download the snapshot, log in to cloud B, upload it as a new image (same\n"
     "size and MD5), select or import the keypair, launch an instance with the\n"
     "same flavor and rules, attach a floating IP, and read the result back.\n"
     "SPEC.xml is checked against docs/migration-spec.xsd first; then every name\n"
     "in it is resolved in both clouds before anything is created. Progress goes\n"
     "to stderr.\n"
     "\n"
     "  --spec FILE    the MigrationSpecs document\n"
     "  --clouds FILE  clouds.yaml for login blocks that name a cloud (default:\n"
     "                 $OS_CLIENT_CONFIG_FILE, ./clouds.yaml,\n"
     "                 ~/.config/openstack/clouds.yaml, /etc/openstack/clouds.yaml)\n"
     "  --state DIR    where migrations and downloaded images are kept (default:\n"
     "                 $CATENA_MIGRATIONS, else ./catena-migrations)\n"
     "  --json         print the migration as JSON at the end\n"
     "  --timeout MS   a request that stalls this long fails the step (default\n"
     "                 30000)\n"
     "  --to DC        record the move on the ledger when the instance is a VC:\n"
     "                 its host DC records the intent before step 1, DC (cloud\n"
     "                 B's datacenter) confirms with the new UUID, floating IP\n"
     "                 and controller in step 9; gateway and tokens from\n"
     "                 --federation FILE (default ./catena-up/federation.json)\n"
     "                 or --api URL\n"
     "  --price P --invoice I  the agreed terms written with it (default 0)\n"
     "\n"
     "A migration that fails keeps what it did: 'resume ID' goes on after its\n"
     "last completed step, 'reset ID' removes what it created in both clouds and\n"
     "its downloaded image. Exit 2 for a spec that is invalid or does not resolve\n"
     "(nothing was created), 1 for a failure during the steps.\n",
     NULL, cmd_migrate},
    {"usage", "what each instance of a cloud project used, priced, beside the ledger's uptime",
     "catena usage --cloud NAME [--clouds FILE] [--from T] [--to T] [--price SPEC] [--json]\n"
     "                    [--federation FILE | --api URL]",
     "Reads Nova's os-simple-tenant-usage for the project of clouds.yaml entry\n"
     "NAME: per instance its hours up in the period, vCPU hours, RAM GB hours\n"
     "and disk GB hours (seed 001's monitoring tool).\n"
     "\n"
     "  --from T --to T   the period, ISO 8601 (default: the 30 days to now)\n"
     "  --price SPEC      prices per hour, vcpu=X,ram_gb=Y,disk_gb=Z: adds the\n"
     "                    amount owed per instance and in total\n"
     "  --federation FILE | --api URL\n"
     "                    beside each instance that is a VC, the hours the ledger\n"
     "                    records it available in the period (its SLA), so that\n"
     "                    provider and consumer compare the two\n"
     "  --json            one JSON object instead of the table\n",
     NULL, cmd_usage},
    {"sim", "replay a PlanetLab day through a VM consolidation policy (energy, SLA)",
     "catena sim [--trace DIR] [--policy P] [--hosts N] [--json] [--vm-types T] [--param X]",
     "Replays one day of VM CPU traces (one file per VM, one percentage per 5 min)\n"
     "on a CloudSim-style data centre and prints energy (kWh), SLATAH, PDM, SLAV\n"
     "and the number of migrations (docs/SIMULATOR.md).\n"
     "\n"
     "  --trace DIR     trace directory; a bare name is a day under\n"
     "                  $CATENA_DATA_DIR/planetlab/ (default: 20110303)\n"
     "  --policy P      thr-mmt, iqr-mmt, mad-mmt, lr-mmt, lrr-mmt or catena\n"
     "                  (default: lr-mmt)\n"
     "  --hosts N       hosts, alternating HP ML110 G4 and G5 (default: 800)\n"
     "  --param X       threshold or safety parameter (default: 0.8, 1.5, 2.5,\n"
     "                  1.2, 1.2; catena: factor on predicted demand, 1.0)\n"
     "  --vm-types T    round-robin (default) or blocks (CloudSim's Helper)\n"
     "  --json          one JSON object instead of text\n",
     NULL, cmd_sim},
    {"can", "Component Administration Networks (seed 002): run a node, its status, the simulation",
     "catena can run --dir DIR --rpc URL --registry ADDR (--key-file F | --key-env VAR) "
     "[--listen HOST:PORT] [--url URL] [--pay-interval S]\n"
     "       catena can status --url URL [--json]\n"
     "       catena can simulate [--steps N] [--nmin N] [--nmax N] [--total N] [--join J,...] "
     "[--fail F,...] [--joins each|one] [--crashes each|one] [--runs R] [--seed S] [--json] "
     "[--svg FILE]",
     "run starts a CAN node with its key (a Registry candidate): when the\n"
     "Registry names it leader it orders the CAN ledger (joins by Algorithm 1,\n"
     "recorded with registerPeer; components, work entries, checkpoints) and\n"
     "pushes it to every member; otherwise it joins through the leader and\n"
     "follows, catching up after a restart. Members ping each other and the\n"
     "components, remove the dead by majority vote and elect a new leader\n"
     "(Algorithms 2 to 4). The leader puts applications' checkpoints on their\n"
     "contracts and pays them every --pay-interval seconds (default: 60). It\n"
     "prints its contact URL. status prints a node's view: members, leader,\n"
     "components, work entries.\n"
     "\n"
     "simulate runs the experiment of seed 002, section 4.1.1 (Figures 4.2 and\n"
     "4.3): each step every candidate asks to join with probability j and the\n"
     "leader applies Algorithm 1 (accept below Nmin; above it only while the\n"
     "surplus does not exceed the churn, the members that left minus those that\n"
     "joined in the step before; never past Nmax), then every member crashes\n"
     "with probability f. It prints box-plot statistics of the network's size\n"
     "per (j, f) over every step of every run (docs/ORCHESTRATION.md).\n"
     "\n"
     "  --steps N     steps per run (default: 100)\n"
     "  --nmin N      minimum size Nmin (default: 4)\n"
     "  --nmax N      maximum size Nmax (default: 10; the seed also uses 100)\n"
     "  --total N     nodes in all, members and candidates (default: 100)\n"
     "  --join J,...  join probabilities (default: .2,.1,.05,.025,.01)\n"
     "  --fail F,...  crash probabilities (default: .5,.75)\n"
     "  --joins M     each: every candidate asks with probability j (default);\n"
     "                one: one candidate a step asks with probability j\n"
     "  --crashes M   each: every member crashes with probability f (default);\n"
     "                one: one member a step crashes with probability f\n"
     "  --runs R      runs per (j, f) (default: 100)\n"
     "  --seed S      random seed (default: 1); same seed, same numbers\n"
     "  --json        one JSON object instead of the table\n"
     "  --svg FILE    also write the box plots as an SVG figure\n",
     NULL, cmd_can},
    {"orch", "run a TOSCA application's services with a local orchestrator (seed 002)",
     "catena orch run APP.yaml --dir DIR [--input NAME=VALUE]... [--retries N] "
     "[--ok-interval S] [--check-ms MS] [--start-timeout S] [--id NAME] [--json]\n"
     "       catena orch serve --can URL[,URL...] --rpc URL --dir DIR (--key-file F | "
     "--key-env VAR) [--listen HOST:PORT] [--url URL] [--check-ms MS] [--start-timeout S]",
     "run starts the application's catena.nodes.Service node templates as local\n"
     "processes, each after those it depends on, checks them over HTTP, and\n"
     "redeploys one that fails (on the same port) up to --retries times before\n"
     "it shuts the application down. Every step is a checkpoint (SERVICE_UP,\n"
     "SERVICE_DOWN, APP_OK, APP_SHUTDOWN) appended to DIR/checkpoints.jsonl\n"
     "and printed. SIGINT or SIGTERM stops the services and ends with\n"
     "APP_SHUTDOWN. Services outlive a crashed orchestrator: run again on the\n"
     "same DIR, it continues from the journal and keeps what still runs.\n"
     "(docs/ORCHESTRATION.md)\n"
     "\n"
     "  --dir DIR          services' working directory, logs and journal\n"
     "  --input N=V        a topology input (repeatable)\n"
     "  --retries N        redeploys per service (default: 3)\n"
     "  --ok-interval S    seconds between APP_OK checkpoints (default: 60)\n"
     "  --check-ms MS      health check period (default: 1000)\n"
     "  --start-timeout S  wait for a started service's first answer (default: 30)\n"
     "  --id NAME          orchestrator id in the checkpoints (default: local)\n"
     "  --json             print checkpoints as JSON lines\n"
     "\n"
     "serve runs an orchestrator as a component of a CAN: it registers with the\n"
     "leader (its id is its key's address, paid on chain), answers GET /health,\n"
     "and runs every application the network assigns it under DIR/<address>/,\n"
     "storing its checkpoints with the leader, continuing from those of an\n"
     "orchestrator it replaces, and shutting the application down when its\n"
     "client calls `catena app stop`. It prints its id and URL.\n",
     NULL, cmd_orch},
    {"app", "an orchestrated application (seed 002): deploy, show, pay, withdraw, stop, close",
     "catena app deploy APP.yaml --can URL --cloud ADDR --deposit WEI [--rpc URL] "
     "[--retries N] [--ok-interval S] (--key-file F | --key-env VAR) [--password-file F] "
     "(--scheduler-key-file F | --scheduler-key-env VAR) [--json]\n"
     "       catena app show ADDR [--can URL] [--rpc URL] [--json]\n"
     "       catena app show|pay|withdraw|stop|close ADDR [--rpc URL] [--json] [--k N] "
     "[--key-file F | --key-env VAR] [--password-file F | --password-env VAR]",
     "deploy reserves free resources of a Cloud for the application's services\n"
     "(signed with the cloud scheduler's key), instantiates its Application\n"
     "contract with the deposit and gives the CAN the work, which an\n"
     "orchestrator takes up; it prints the contract and the orchestrator.\n"
     "show prints an Application contract's state (running, stopping, shut down,\n"
     "closed), funds (balance, locked), services and their state, checkpoints\n"
     "(the newest 1000) and the salaries not yet withdrawn of every party it\n"
     "names; with --can URL also the orchestrator and each service's URL and\n"
     "pid. The others send one transaction with the caller's key and wait:\n"
     "  pay       interimPayment(k): pays unpaid checkpoints into salaries; by\n"
     "            default k is every unpaid one, halved until the call fits in\n"
     "            90% of a block (eth_estimateGas)\n"
     "  withdraw  takes the caller's salary\n"
     "  stop      the client asks for APP_SHUTDOWN\n"
     "  close     the client, after APP_SHUTDOWN: pays what remains and takes\n"
     "            back what was never promised\n"
     "\n"
     "  --rpc URL   the chain node (default: $CATENA_RPC, else\n"
     "              http://127.0.0.1:8545)\n"
     "  --k N       checkpoints to pay (pay)\n"
     "  --json      one JSON object\n",
     NULL, cmd_app},
    {"agreement", "monetization agreements (seed 004): offer, accept, sessions, settle, show",
     "catena agreement offer --kind fixed|dynamic|flexible|constrained --price WEI "
     "--max-seconds N\n"
     "               [--minimum WEI] [--federation ADDR] [--sla PERCENT] "
     "[--constraint KEY=VALUE[|VALUE...]]...\n"
     "       catena agreement offer --kind prepaid --price-per-minute WEI\n"
     "       catena agreement offer --kind split|vote --price WEI (--party ADDR:SHARE | "
     "--voter ADDR)... [--quorum K]\n"
     "       catena agreement accept ADDR --deposit WEI\n"
     "       catena agreement vote ADDR --yes|--no\n"
     "       catena agreement start|stop|settle|withdraw|refund|show ADDR\n"
     "       catena agreement session ADDR --port P [--until T]   (the keeper's session service)\n"
     "  (each with [--rpc URL] [--json] and a key: --key-file F [--password-file F] | "
     "--key-env VAR | --as NAME [--up-dir DIR])",
     "offer deploys an agreement with the caller as provider (owner):\n"
     "  fixed     the whole --price for a session of at most --max-seconds\n"
     "  dynamic   the same price locked; settled pro rata to the seconds used\n"
     "  flexible  as dynamic, but at least --minimum\n"
     "            (fixed, dynamic, flexible: an SLA of --sla PERCENT, default 75,\n"
     "            over the serving VC's availability on the --federation ledger,\n"
     "            default the contract of federation.json; below it everything is\n"
     "            refunded. The gateway's keeper deploys the session, binds its VC\n"
     "            and URL and settles at the deadline. --sla 0: none, no session)\n"
     "  prepaid   the user buys minutes at --price-per-minute and starts and\n"
     "            stops sessions any number of times, charged by the second\n"
     "  split     income split among --party ADDR:SHARE, each must approve\n"
     "  vote      as split (--voter ADDR: an equal share), offered once --quorum\n"
     "            parties approve\n"
     "  constrained  dynamic, served only by a DC whose attributes on the ledger\n"
     "            satisfy every --constraint (fixed, dynamic, flexible take them too)\n"
     "accept signs as the user by paying exactly the price (prepaid: buys\n"
     "--deposit worth of whole minutes). stop ends the session (the user);\n"
     "settle ends it after the maximum period or when the minutes ran out\n"
     "(anyone); withdraw takes what the caller is owed; refund (prepaid) makes\n"
     "the credit left withdrawable. show prints kind, state, parties, times,\n"
     "what was charged and refunded, and what each party is owed; with an SLA\n"
     "also the session URL, the serving VC, its host DC and its availability.\n"
     "--as NAME acts as a funded account of `catena up` (provider, user, party1,\n"
     "party2, party3, listed in DIR/federation.json; --up-dir DIR, default\n"
     "./catena-up), whose RPC URL is then the default; without a key, offer\n"
     "acts as provider and accept, start, stop and refund as user.\n"
     "(docs/AGREEMENTS.md)\n",
     NULL, cmd_agreement},
    {"verify", "prove a VC's history from the chain itself, online or from a bundle",
     "catena verify vc TAG [--api URL] [--rpc URL[,URL...]] [--federation FILE] "
     "[--contract ADDR] [--json]\n"
     "       catena verify export TAG [--api URL] [--rpc URL[,URL...]] [--federation FILE] "
     "[--contract ADDR]\n"
     "       catena verify bundle FILE --trust HASH@NUMBER [--contract ADDR] [--json]",
     "vc takes the VC's history and details from the gateway (untrusted) and checks\n"
     "them against the nodes: block headers rebuilt from their fields and linked,\n"
     "every receipt of each block whose bloom may hold the VC's events rebuilt into\n"
     "its receiptsRoot, the blooms of all other blocks, and the VC's storage slot\n"
     "proven against the head's stateRoot (where the node has eth_getProof). Each\n"
     "event must be on the chain field by field, and every event on the chain must\n"
     "be in the history. With several nodes they must agree on the head.\n"
     "export prints the same evidence as one JSON bundle (built by the gateway,\n"
     "GET /api/container/TAG/proof/, when no --rpc is given); bundle checks one\n"
     "with no network, given one block hash you trust: the bundle's head.\n"
     "Defaults come from federation.json (--federation, else\n"
     "./catena-up/federation.json): gateway, contract, every node.\n"
     "Exit 0 when everything holds, 1 with each problem named, 2 on bad input.\n"
     "(docs/VERIFY.md)\n",
     NULL, cmd_verify},
    {"api", "run the federation gateway (REST, OpenAPI, event follower, agent links)",
     "catena api --config FILE [--listen HOST:PORT] [--reindex] [--check]",
     "Serves seed 000's REST API under /api/ (Swagger UI at /api/swagger/),\n"
     "forwards writes to each DC's agent, and answers reads from a SQLite cache\n"
     "that follows the chain. The configuration file is described in\n"
     "docs/GATEWAY.md.\n"
     "\n"
     "  --config FILE       gateway configuration (JSON)\n"
     "  --listen HOST:PORT  overrides the file's listen address (port 0: any)\n"
     "  --reindex           rebuild the cache from the chain at start\n"
     "  --check             only validate the configuration\n",
     NULL, cmd_api},
    {"deploy", "deploy the Federation contract (embedded) and print its address",
     "catena deploy --rpc URL (--key-file F | --key-env VAR) [--password-file F | "
     "--password-env VAR] [--consortium] [--json]",
     "Deploys the Federation contract compiled into catena. By default any wallet\n"
     "may register a datacenter (dev mode); with --consortium the deploying\n"
     "account (the federation admin) must admit each DC's wallet first\n"
     "(admitDatacenter). The key file holds a hex key or a keystore v3 file.\n",
     NULL, cmd_deploy},
    {"help", "show help for catena or one command", "catena help [COMMAND]", "", NULL, cmd_help},
    {"version", "print the version", "catena version", "", NULL, cmd_version},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

const cli_cmd *cli_find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_main_help(FILE *f)
{
    fprintf(f, "usage: catena <command> [options]\n\n"
               "Catena: a federation ledger for data centres and clouds.\n\n"
               "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\nRun 'catena help <command>' for a command's options.\n");
}

void cli_print_help(const cli_cmd *cmd)
{
    printf("usage: %s\n\n%s", cmd->usage, cmd->help_fn ? cmd->help_fn() : cmd->help);
}

int cli_bad_input(const char *cmd, const char *sub, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "catena %s%s%s: ", cmd, sub ? " " : "", sub ? sub : "");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_USAGE;
}

int cli_usage_error(const cli_cmd *cmd, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "catena %s: ", cmd->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\n", cmd->usage);
    return CLI_USAGE;
}

int cli_getopt(const cli_cmd *cmd, int argc, char **argv, const struct option *longopts)
{
    int c;

    opterr = 0;
    c = getopt_long(argc, argv, "+:h", longopts, NULL);
    if (c == ':')
        cli_usage_error(cmd, "option '%s' needs a value", argv[optind - 1]);
    else if (c == '?' && optopt != 0 && strncmp(argv[optind - 1], "--", 2) != 0)
        cli_usage_error(cmd, "unknown option '-%c'", optopt);
    else if (c == '?')
        cli_usage_error(cmd, "unknown option '%s'", argv[optind - 1]);
    return c == ':' ? '?' : c;
}

int cli_getopt_one(const cli_cmd *cmd, int argc, char **argv, const struct option *longopts,
                   const char **positional)
{
    int c;

    while ((c = cli_getopt(cmd, argc, argv, longopts)) == -1 && optind < argc) {
        if (*positional != NULL) {
            cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
            return '?';
        }
        *positional = argv[optind++];
    }
    return c;
}

int cli_parse_listen(const cli_cmd *cmd, char *host, size_t host_size, uint16_t *port,
                     const char *text)
{
    const char *colon = strrchr(text, ':');
    struct in_addr ip;

    if (colon == NULL || (size_t)(colon - text) >= host_size || colon == text)
        return cli_usage_error(cmd, "--listen must be HOST:PORT (an IPv4 address)");
    memcpy(host, text, (size_t)(colon - text));
    host[colon - text] = '\0';
    if (inet_pton(AF_INET, host, &ip) != 1)
        return cli_usage_error(cmd, "--listen: '%s' is not an IPv4 address", host);
    return cli_parse_port(cmd, "--listen", colon + 1, port);
}

int cli_parse_port(const cli_cmd *cmd, const char *flag, const char *value, uint16_t *out)
{
    uint64_t v;

    if (ct_parse_uint(&v, value, 65535) < 0)
        return cli_usage_error(cmd, "%s: %s", flag, ct_error_last());
    *out = (uint16_t)v;
    return 0;
}

static void stop_signals(sigset_t *set)
{
    sigemptyset(set);
    sigaddset(set, SIGINT);
    sigaddset(set, SIGTERM);
    sigaddset(set, SIGHUP);
}

void cli_block_stop_signals(void)
{
    sigset_t set;

    stop_signals(&set);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cli_wait_stop(int timeout_ms)
{
    sigset_t set;
    int sig = 0;

    stop_signals(&set);
    if (timeout_ms < 0) {
        if (sigwait(&set, &sig) != 0)
            return 0;
    } else {
        struct timespec t = {timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L};
        sig = sigtimedwait(&set, NULL, &t);
        if (sig <= 0)
            return 0;
    }
    ct_log(CT_LOG_INFO, "received %s, stopping", strsignal(sig));
    return sig;
}

static void log_to_stderr(int level, const char *msg, void *payload)
{
    (void)payload;
    fprintf(stderr, "catena: %s: %s\n", ct_log_level_name(level), msg);
}

void cli_log_init(void)
{
    int level = CT_LOG_INFO;
    const char *env = getenv("CATENA_LOG_LEVEL");

    if (env != NULL && ct_log_level_parse(&level, env) < 0)
        fprintf(stderr, "catena: CATENA_LOG_LEVEL: %s\n", ct_error_last());
    ct_log_set(level, log_to_stderr, NULL);
}

const char *cli_root_dir(void)
{
    const char *env = getenv("CATENA_ROOT");
    return env != NULL && env[0] != '\0' ? env : CATENA_SOURCE_DIR;
}

static int cmd_help(int argc, char **argv)
{
    const cli_cmd *self = cli_find("help"), *cmd;

    if (argc < 2) {
        print_main_help(stdout);
        return CLI_OK;
    }
    if (argc > 2)
        return cli_usage_error(self, "expects one command name");
    if ((cmd = cli_find(argv[1])) == NULL)
        return cli_usage_error(self, "unknown command '%s'", argv[1]);
    cli_print_help(cmd);
    return CLI_OK;
}

int cli_print_json(const json_t *v)
{
    char *text;

    if (v == NULL || ct_json_dump(&text, v) < 0)
        return CLI_FAIL;
    puts(text);
    free(text);
    return CLI_OK;
}

static int cmd_version(int argc, char **argv)
{
    (void)argv;
    if (argc > 1)
        return cli_usage_error(cli_find("version"), "takes no arguments");
    printf("catena %s\n", CATENA_VERSION);
    return CLI_OK;
}

int main(int argc, char **argv)
{
    const cli_cmd *cmd;

    if (argc < 2) {
        print_main_help(stderr);
        return CLI_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return cmd_help(1, argv);
    if (strcmp(argv[1], "--version") == 0)
        return cmd_version(1, argv);
    if ((cmd = cli_find(argv[1])) == NULL) {
        fprintf(stderr,
                "catena: unknown %s '%s'\nusage: catena <command> [options] "
                "(see 'catena --help')\n",
                argv[1][0] == '-' ? "option" : "command", argv[1]);
        return CLI_USAGE;
    }
    cli_log_init();
    return cmd->run(argc - 1, argv + 1);
}
