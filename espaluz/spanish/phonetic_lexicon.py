"""Common Spanish words for the minimal-pair finder (written for espaluz; frequent, concrete words
a learner meets early, chosen so that the classic contrasts have partners: tap/trill, vowels,
b/p, d/t, g/k, s/θ, l/ɾ, n/ɲ, ch/y...)."""

from __future__ import annotations

_TEXT = """
    pero perro caro carro cero cerro para parra coro corro pera perra foro forro moro morro
    ahora ahorra vara barra mira mirra hiero hierro cura curra quiero querré torero torrero
    tira tirra poro porro cora corra varo barro careta carreta enterar enterrar
    pasa pesa pisa posa pusa paso peso piso poso puso masa mesa misa mosa casa cosa caso
    queso quiso cazo cuso pelo palo polo pala pela pila pilo bola bala vela vino vano
    boca poca bata pata beso peso vaso paso bajo pajo bar par bolo polo bollo pollo
    dedo dado todo toldo tomo domo tela dela tanto canto cama rama dama fama lama llama
    gato pato rato dato mato nato cato lato gasto pasto vasto casto rasto
    gana cana lana rana sana mana vana llana
    calle valle talle dalle sale tale pone tone cine cena cena sena seña sueño dueño
    mano mono mino malo mala mula mole mate mete mito moto meta mota muta
    sal sol sul mar mal mas mes mis mos gol col sol
    cinco cinto cien sien ciento siento cocer coser caza casa cazar casar abrasar abrazar
    loza losa taza tasa poso pozo
    año ano uña una caña cana peña pena moño mono leño leno
    coche coge noche nocha ocho hecho echo lecho techo pecho pecho lecho cacho cayo callo
    pollo poyo hoya olla haya halla valla vaya rallar rayar
    hora ola hola oro olor loro lodo loco poco foco roca ropa sopa copa cola coma loma goma toma
    luna cuna tuna duna puna
    lata rata data nata bata mata gata pata
    hijo hilo higo fijo filo
    río tío lío mío pío frío
    tren tres trampa tramo primo prima premio precio cuatro cuadro
    gorra gorro borra borro corre corra tierra sierra guerra perra zorra
    caro cara carta corta curta cuerda cuerpo puerta puerto muerto muerte suerte fuerte
    vida vía cita sita tina pina mina lima rima cima sima
    nube nave llave clave
    saco seco sico taco teco toco tuco
    pan pen pin pon bien vienen tiene viene
    dos tos los nos vos
    tú su mi tu yo ya va da ve de te se le me
    hambre hombre hembra nombre
    leche lecha lucha luche ducha duche
    pino pido piso pico pito
    nieve nueve mueve lleve llueve
    abuela abuelo vuela vuelo suela suelo
    coro cero claro claro
    """

WORDS: tuple[str, ...] = tuple(dict.fromkeys(_TEXT.split()))
